package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCredentialSDSNames(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"web": "kubernetes://web", "ns/web": "kubernetes://ns/web", "kubernetes://web": "kubernetes://web",
		"builtin://": "builtin://", "": "kubernetes://",
	} {
		if got := CredentialSDSName(in); got != want {
			t.Errorf("CredentialSDSName(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tc := range []struct{ caCert, cred, want string }{
		{"", "web", "kubernetes://web-cacert"},
		{"", "kubernetes://ns/web", "kubernetes://ns/web-cacert"},
		{"", "web-cacert", "kubernetes://web-cacert-cacert"},
		{"clients", "web", "kubernetes://clients-cacert"},
		{"clients-cacert", "web", "kubernetes://clients-cacert"},
		{"kubernetes://ns/clients", "web", "kubernetes://ns/clients-cacert"},
		{"kubernetes://ns/clients-cacert", "web", "kubernetes://ns/clients-cacert"},
	} {
		if got := CredentialCASDSName(tc.caCert, tc.cred); got != tc.want {
			t.Errorf("CredentialCASDSName(%q, %q) = %q, want %q", tc.caCert, tc.cred, got, tc.want)
		}
	}
}

func TestCredentialSecrets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sds  string
		ca   bool
		want []SecretRef
	}{
		{"kubernetes://web", false, []SecretRef{{"", "web"}}},
		{"kubernetes://ns/web", false, []SecretRef{{"ns", "web"}}},
		// A certificate named like a CA resource is still only that Secret.
		{"kubernetes://web-cacert", false, []SecretRef{{"", "web-cacert"}}},
		{"kubernetes://web-cacert", true, []SecretRef{{"", "web-cacert"}, {"", "web"}}},
		{"kubernetes://ns/web-cacert", true, []SecretRef{{"ns", "web-cacert"}, {"ns", "web"}}},
		// caCertCredentialName "clients-cacert" is requested as written: clients-cacert, else clients.
		{CredentialCASDSName("clients-cacert", "web"), true, []SecretRef{{"", "clients-cacert"}, {"", "clients"}}},
		{CredentialCASDSName("", "web-cacert"), true, []SecretRef{{"", "web-cacert-cacert"}, {"", "web-cacert"}}},
		// Without the suffix the CA is still N-cacert first, as translation reads it.
		{"kubernetes://web", true, []SecretRef{{"", "web-cacert"}, {"", "web"}}},
		{"kubernetes://", false, nil},
		{"kubernetes://ns/", false, nil},
		{"kubernetes:///web", false, nil},
		{"kubernetes://ns/-cacert", true, []SecretRef{{"ns", "-cacert"}}},
		{"builtin://", false, nil},
		{"builtin://", true, nil},
		{"invalid://web-cacert", true, nil},
		{"web", false, nil},
	} {
		if diff := cmp.Diff(tc.want, CredentialSecrets(tc.sds, tc.ca)); diff != "" {
			t.Errorf("CredentialSecrets(%q, %v) (-want +got):\n%s", tc.sds, tc.ca, diff)
		}
	}
}

package translate

import (
	"strings"
	"testing"

	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/plainenvoy/controlplane/pkg/model"
)

func peerIDs(sms ...*rbacv3.Principal) *rbacv3.Principal { return authzOrIDs(sms) }

func TestPrincipalSideAttrs(t *testing.T) {
	t.Parallel()
	ctx := newAuthzContext(model.Mesh{TrustDomain: "td1", TrustDomainAliases: []string{"old", "td1"}}, "foo")
	tests := map[string]struct {
		attr    authzAttr
		values  []string
		want    *rbacv3.Principal
		wantErr string
	}{
		"principal in local trust domain is expanded to aliases": {
			attr: ctx.principalsAttr(), values: []string{"cluster.local/ns/a/sa/b"},
			want: peerIDs(authzPeer(authzExact("spiffe://td1/ns/a/sa/b")), authzPeer(authzExact("spiffe://old/ns/a/sa/b"))),
		},
		"principal in foreign trust domain stays": {
			attr: ctx.principalsAttr(), values: []string{"other/ns/a/sa/b"},
			want: peerIDs(authzPeer(authzExact("spiffe://other/ns/a/sa/b"))),
		},
		"principal wildcards": {
			attr: ctx.principalsAttr(), values: []string{"*", "x/ns/a/*", "*/sa/b.c"},
			want: peerIDs(authzPeer(authzRegex(".+")), authzPeer(authzPrefix("spiffe://x/ns/a/")),
				authzPeer(authzRegex(`spiffe://.*/sa/b\.c`))),
		},
		"empty principal fails": {attr: ctx.principalsAttr(), values: []string{"a", ""}, wantErr: "empty value"},
		"namespaces": {
			attr: namespacesAttr(), values: []string{"dev", "te*.x"},
			want: peerIDs(authzPeer(authzRegex(".*/ns/dev/.*")), authzPeer(authzRegex(`.*/ns/te.*\.x/.*`))),
		},
		"service accounts default to the policy namespace": {
			attr: ctx.serviceAccountsAttr(), values: []string{"sa", "bar/sb"},
			want: peerIDs(authzPeer(authzRegex("spiffe://.+/ns/foo/(.+/|)sa/sa(/.+)?")),
				authzPeer(authzRegex("spiffe://.+/ns/bar/(.+/|)sa/sb(/.+)?"))),
		},
		"service account with wildcard fails":    {attr: ctx.serviceAccountsAttr(), values: []string{"s*"}, wantErr: "wildcard"},
		"service account with two slashes fails": {attr: ctx.serviceAccountsAttr(), values: []string{"a/b/c"}, wantErr: "expected format"},
		"trust domains": {
			attr: ctx.trustDomainsAttr(), values: []string{"*", "cluster.local", "ext", "pre*", "*suf"},
			want: peerIDs(authzPeer(authzPrefix("spiffe://")),
				authzPeer(authzPrefix("spiffe://td1/")), authzPeer(authzPrefix("spiffe://old/")),
				authzPeer(authzPrefix("spiffe://ext/")),
				authzPeer(authzRegex("spiffe://pre[^/]*/.*")), authzPeer(authzRegex("spiffe://[^/]*suf/.*"))),
		},
		"trust domain with slash fails": {attr: ctx.trustDomainsAttr(), values: []string{"a/b"}, wantErr: "must not contain"},
		"ip blocks": {
			attr: ipBlocksAttr(), values: []string{"10.1.2.3", "10.0.0.0/8", "2001:db8::/32"},
			want: peerIDs(
				&rbacv3.Principal{Identifier: &rbacv3.Principal_DirectRemoteIp{DirectRemoteIp: authzCIDR(mustPrefix(t, "10.1.2.3/32"))}},
				&rbacv3.Principal{Identifier: &rbacv3.Principal_DirectRemoteIp{DirectRemoteIp: authzCIDR(mustPrefix(t, "10.0.0.0/8"))}},
				&rbacv3.Principal{Identifier: &rbacv3.Principal_DirectRemoteIp{DirectRemoteIp: authzCIDR(mustPrefix(t, "2001:db8::/32"))}}),
		},
		"remote ip blocks": {
			attr: remoteIPBlocksAttr(), values: []string{"1.2.3.4/24"},
			want: peerIDs(&rbacv3.Principal{Identifier: &rbacv3.Principal_RemoteIp{RemoteIp: authzCIDR(mustPrefix(t, "1.2.3.0/24"))}}),
		},
		"bad CIDR fails":       {attr: ipBlocksAttr(), values: []string{"10.0.0.0/33"}, wantErr: "bad CIDR range (10.0.0.0/33)"},
		"bad IP address fails": {attr: remoteIPBlocksAttr(), values: []string{"10.0.0"}, wantErr: "bad IP address (10.0.0)"},
		"header present and prefix": {
			attr: headerAttr("x-token"), values: []string{"*", "ab*"},
			want: peerIDs(&rbacv3.Principal{Identifier: &rbacv3.Principal_Header{Header: authzHeader("x-token", "*", false)}},
				&rbacv3.Principal{Identifier: &rbacv3.Principal_Header{Header: authzHeader("x-token", "ab*", false)}}),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.attr.principal(tc.values)
			checkErr(t, err, tc.wantErr)
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
}

package ca

import (
	"bytes"
	"testing"
)

func TestSecrets(t *testing.T) {
	c := newTestCA(t, newClock(), Options{})
	id := Identity{Namespace: "shop", ServiceAccount: "cart"}
	secrets, err := c.Secrets(id)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := c.Certificate(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 2 || secrets[0].GetName() != "default" || secrets[1].GetName() != "ROOTCA" {
		t.Fatalf("secrets = %v, want [default ROOTCA]", secrets)
	}
	for _, s := range secrets {
		if err := s.ValidateAll(); err != nil {
			t.Errorf("secret %s: %v", s.GetName(), err)
		}
	}
	tc := secrets[0].GetTlsCertificate()
	if !bytes.Equal(tc.GetCertificateChain().GetInlineBytes(), cert.CertChainPEM) ||
		!bytes.Equal(tc.GetPrivateKey().GetInlineBytes(), cert.KeyPEM) {
		t.Error("default secret is not the cached certificate of the identity")
	}
	if !bytes.Equal(secrets[1].GetValidationContext().GetTrustedCa().GetInlineBytes(), c.Root()) {
		t.Error("ROOTCA secret is not Root()")
	}
	if root := c.RootSecret(); root.GetTlsCertificate() != nil || bytes.Contains(root.GetValidationContext().GetTrustedCa().GetInlineBytes(), []byte("PRIVATE KEY")) {
		t.Error("ROOTCA carries key material")
	}
	if _, err := c.Secrets(Identity{TrustDomain: "evil.example", Namespace: "a", ServiceAccount: "b"}); err == nil {
		t.Error("Secrets for a foreign trust domain succeeded")
	}
}

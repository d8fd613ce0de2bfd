package ca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"testing"
	"time"
)

// verifyLeaf checks that cert's chain verifies against rootPEM for both client and server
// authentication at now, and returns the leaf.
func verifyLeaf(t *testing.T, cert *Certificate, rootPEM []byte, now time.Time) *x509.Certificate {
	t.Helper()
	leaf, inter := parseLeaf(t, cert.CertChainPEM)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth} {
		_, err := leaf.Verify(x509.VerifyOptions{
			Roots: poolOf(t, rootPEM), Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage},
		})
		if err != nil {
			t.Fatalf("verify for usage %v: %v", usage, err)
		}
	}
	return leaf
}

var oidSAN = asn1.ObjectIdentifier{2, 5, 29, 17}

func TestIssueWorkloadCertificate(t *testing.T) {
	clock := newClock()
	c := newTestCA(t, clock, Options{TrustDomain: "example.org"})
	cert, err := c.Issue(Identity{Namespace: "shop", ServiceAccount: "cart"})
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	leaf := verifyLeaf(t, cert, c.Root(), now)

	const want = "spiffe://example.org/ns/shop/sa/cart"
	if len(leaf.URIs) != 1 || leaf.URIs[0].String() != want {
		t.Errorf("URI SANs = %v, want exactly [%s]", leaf.URIs, want)
	}
	if len(leaf.DNSNames)+len(leaf.IPAddresses)+len(leaf.EmailAddresses) != 0 {
		t.Errorf("unexpected SANs: dns %v ip %v email %v", leaf.DNSNames, leaf.IPAddresses, leaf.EmailAddresses)
	}
	for _, ext := range leaf.Extensions {
		if ext.Id.Equal(oidSAN) && !ext.Critical {
			t.Error("SAN extension of a subject-less certificate is not critical")
		}
	}
	if cert.Identity.String() != want {
		t.Errorf("Identity = %s, want %s", cert.Identity, want)
	}
	if leaf.IsCA {
		t.Error("workload certificate is a CA")
	}
	if leaf.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment {
		t.Errorf("KeyUsage = %v", leaf.KeyUsage)
	}
	checkTimes(t, cert, leaf, now, 24*time.Hour, 12*time.Hour)

	pair, err := cert.TLSCertificate()
	if err != nil {
		t.Fatalf("key does not match certificate: %v", err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		t.Errorf("key is %T, want ECDSA P-256", pair.PrivateKey)
	}

	again, err := c.Issue(Identity{Namespace: "shop", ServiceAccount: "cart"})
	if err != nil {
		t.Fatal(err)
	}
	if string(again.KeyPEM) == string(cert.KeyPEM) {
		t.Error("Issue reused a private key")
	}
}

func checkTimes(t *testing.T, cert *Certificate, leaf *x509.Certificate, now time.Time, ttl, refresh time.Duration) {
	t.Helper()
	if !leaf.NotAfter.Equal(now.Add(ttl)) || !cert.NotAfter.Equal(leaf.NotAfter) {
		t.Errorf("NotAfter = %v (field %v), want now+%v", leaf.NotAfter, cert.NotAfter, ttl)
	}
	if !leaf.NotBefore.Equal(now.Add(-clockSkew)) || !cert.NotBefore.Equal(leaf.NotBefore) {
		t.Errorf("NotBefore = %v, want now-%v", leaf.NotBefore, clockSkew)
	}
	if !cert.RefreshAt.Equal(now.Add(refresh)) {
		t.Errorf("RefreshAt = %v, want now+%v", cert.RefreshAt, refresh)
	}
}

func TestIssueHonoursTTLAndRotateAt(t *testing.T) {
	clock := newClock()
	c := newTestCA(t, clock, Options{WorkloadTTL: time.Hour, RotateAt: 0.75})
	cert, err := c.Issue(Identity{Namespace: "a", ServiceAccount: "b"})
	if err != nil {
		t.Fatal(err)
	}
	leaf := verifyLeaf(t, cert, c.Root(), clock.Now())
	checkTimes(t, cert, leaf, clock.Now(), time.Hour, 45*time.Minute)
}

func TestIssueNeverOutlivesTheSigner(t *testing.T) {
	clock := newClock()
	root := makeCert(t, certSpec{isCA: true, notBefore: t0.Add(-time.Hour), notAfter: t0.Add(2 * time.Hour)})
	certPath, keyPath := root.write(t, t.TempDir(), "root")
	c := newTestCA(t, clock, Options{CertFile: certPath, KeyFile: keyPath})
	cert, err := c.Issue(Identity{Namespace: "a", ServiceAccount: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if !cert.NotAfter.Equal(root.cert.NotAfter) {
		t.Errorf("NotAfter = %v, want the root's %v", cert.NotAfter, root.cert.NotAfter)
	}
	if !cert.RefreshAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("RefreshAt = %v, want half of the shortened life", cert.RefreshAt)
	}
	verifyLeaf(t, cert, c.Root(), clock.Now())

	clock.Set(root.cert.NotAfter.Add(time.Second))
	if _, err := c.Issue(Identity{Namespace: "a", ServiceAccount: "b"}); err == nil {
		t.Error("Issue after the signer expired succeeded")
	}
}

func TestIssueRejectsBadIdentities(t *testing.T) {
	c := newTestCA(t, newClock(), Options{TrustDomain: "cluster.local"})
	for name, id := range map[string]Identity{
		"other trust domain": {TrustDomain: "evil.example", Namespace: "a", ServiceAccount: "b"},
		"empty namespace":    {ServiceAccount: "b"},
		"empty sa":           {Namespace: "a"},
		"slash in namespace": {Namespace: "a/sa/x", ServiceAccount: "b"},
		"dot-dot":            {Namespace: "..", ServiceAccount: "b"},
		"space":              {Namespace: "a b", ServiceAccount: "b"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := c.Issue(id); err == nil {
				t.Error("Issue succeeded")
			}
			if _, err := c.Certificate(id); err == nil {
				t.Error("Certificate succeeded")
			}
		})
	}
}

func TestIssueBootstrap(t *testing.T) {
	clock := newClock()
	c := newTestCA(t, clock, Options{})
	cert, err := c.IssueBootstrap(Identity{Namespace: "ns", ServiceAccount: "gw"}, 72*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf := verifyLeaf(t, cert, c.Root(), clock.Now())
	if !leaf.NotAfter.Equal(clock.Now().Add(72 * time.Hour)) {
		t.Errorf("NotAfter = %v, want now+72h", leaf.NotAfter)
	}
	if leaf.URIs[0].String() != "spiffe://cluster.local/ns/ns/sa/gw" {
		t.Errorf("URI = %v", leaf.URIs[0])
	}
	if !c.NextRotation().IsZero() {
		t.Error("a bootstrap certificate was cached for rotation")
	}
}

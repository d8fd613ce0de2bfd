package ca

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"
)

func TestGivenRootFiles(t *testing.T) {
	clock := newClock()
	root := makeCert(t, certSpec{isCA: true, notBefore: t0.Add(-time.Hour), notAfter: t0.Add(1000 * time.Hour)})
	certPath, keyPath := root.write(t, t.TempDir(), "root")
	c := newTestCA(t, clock, Options{CertFile: certPath, KeyFile: keyPath})

	if !bytes.Equal(c.Root(), root.certPEM()) {
		t.Fatal("Root() is not the given root")
	}
	cert, err := c.Issue(Identity{Namespace: "a", ServiceAccount: "b"})
	if err != nil {
		t.Fatal(err)
	}
	leaf := verifyLeaf(t, cert, root.certPEM(), clock.Now())
	if strings.Count(string(cert.CertChainPEM), "BEGIN CERTIFICATE") != 1 {
		t.Error("chain of a root-signed leaf should hold the leaf only (peers have the root)")
	}
	if err := leaf.CheckSignatureFrom(root.cert); err != nil {
		t.Errorf("leaf not signed by the given root: %v", err)
	}
}

func TestGivenIntermediateFiles(t *testing.T) {
	clock := newClock()
	dir := t.TempDir()
	root := makeCert(t, certSpec{isCA: true, notBefore: t0.Add(-time.Hour), notAfter: t0.Add(1000 * time.Hour)})
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	inter := makeCert(t, certSpec{parent: root, isCA: true, key: rsaKey,
		notBefore: t0.Add(-time.Hour), notAfter: t0.Add(500 * time.Hour)})
	certPath := writeFile(t, dir, "inter-cert.pem", inter.certPEM())
	// PKCS#1, as openssl genrsa writes it, to cover that key format.
	keyPath := writeFile(t, dir, "inter-key.pem",
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	// Istio's cert-chain.pem repeats the signing certificate before the root: accepted.
	chainPath := writeFile(t, dir, "chain.pem", append(inter.certPEM(), root.certPEM()...))

	c := newTestCA(t, clock, Options{CertFile: certPath, KeyFile: keyPath, ChainFile: chainPath})
	if !bytes.Equal(c.Root(), root.certPEM()) {
		t.Fatal("Root() should be the configured root only")
	}
	cert, err := c.Issue(Identity{Namespace: "a", ServiceAccount: "b"})
	if err != nil {
		t.Fatal(err)
	}
	verifyLeaf(t, cert, root.certPEM(), clock.Now())
	certs, err := parseCerts(cert.CertChainPEM)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 2 || !bytes.Equal(certs[1].Raw, inter.cert.Raw) {
		t.Fatalf("chain has %d certificates, want leaf + intermediate", len(certs))
	}
}

func TestGivenFilesRejected(t *testing.T) {
	dir := t.TempDir()
	valid := func() (time.Time, time.Time) { return t0.Add(-time.Hour), t0.Add(100 * time.Hour) }
	nb, na := valid()
	root := makeCert(t, certSpec{isCA: true, notBefore: nb, notAfter: na})
	other := makeCert(t, certSpec{isCA: true, notBefore: nb, notAfter: na})
	inter := makeCert(t, certSpec{parent: root, isCA: true, notBefore: nb, notAfter: na})
	leaf := makeCert(t, certSpec{parent: root, notBefore: nb, notAfter: na})
	expired := makeCert(t, certSpec{isCA: true, notBefore: t0.Add(-2 * time.Hour), notAfter: t0.Add(-time.Hour)})

	rootCert, rootKey := root.write(t, dir, "root")
	_, otherKey := other.write(t, dir, "other")
	interCert, interKey := inter.write(t, dir, "inter")
	leafCert, leafKey := leaf.write(t, dir, "leaf")
	expCert, expKey := expired.write(t, dir, "expired")
	otherCert, _ := other.write(t, dir, "other")

	for name, o := range map[string]Options{
		"key of another certificate":        {CertFile: rootCert, KeyFile: otherKey},
		"intermediate without chain":        {CertFile: interCert, KeyFile: interKey},
		"intermediate with a foreign chain": {CertFile: interCert, KeyFile: interKey, ChainFile: otherCert},
		"not a CA":                          {CertFile: leafCert, KeyFile: leafKey, ChainFile: rootCert},
		"expired":                           {CertFile: expCert, KeyFile: expKey},
		"missing file":                      {CertFile: dir + "/nope.pem", KeyFile: rootKey},
		"key is a certificate":              {CertFile: rootCert, KeyFile: rootCert},
	} {
		t.Run(name, func(t *testing.T) {
			o.Now = newClock().Now
			if _, err := New(t.Context(), o); err == nil {
				t.Fatal("New succeeded")
			} else if strings.Contains(err.Error(), "PRIVATE KEY-----") {
				t.Fatalf("error quotes key material: %v", err)
			}
		})
	}
}

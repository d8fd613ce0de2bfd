package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

// TestCAIssue: the command creates a root, issues a certificate for the SPIFFE identity that
// verifies against the written root, and keeps the key private.
func TestCAIssue(t *testing.T) {
	caDir, out := t.TempDir(), filepath.Join(t.TempDir(), "proxy")
	cmd := newRootCommand()
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs([]string{"ca", "issue", "--ca-dir", caDir, "--namespace", "foo", "--service-account", "httpbin", "--out", out})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	leaf := parseCert(t, filepath.Join(out, "cert-chain.pem"))
	roots := x509.NewCertPool()
	roots.AddCert(parseCert(t, filepath.Join(out, "root-cert.pem")))
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("issued certificate does not verify: %v", err)
	}
	if len(leaf.URIs) != 1 || leaf.URIs[0].String() != "spiffe://cluster.local/ns/foo/sa/httpbin" {
		t.Fatalf("URI SANs %v", leaf.URIs)
	}
	if fi, err := os.Stat(filepath.Join(out, "key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key.pem: %v, mode %v", err, fi.Mode())
	}
}

func parseCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

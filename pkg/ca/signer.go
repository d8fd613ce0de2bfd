package ca

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// signer is the CA certificate that signs workload certificates, with what goes around it.
type signer struct {
	cert *x509.Certificate
	key  crypto.Signer
	// chainPEM follows every issued leaf: the signing certificate and any intermediates above
	// it, not the root (peers have it in their trust bundle).
	chainPEM []byte
	roots    []*x509.Certificate
	rootPEM  []byte
}

// newSigner checks that cert and key belong together, that cert may sign certificates, and
// that it chains to a self-signed root through chain, then assembles the signer.
func newSigner(cert *x509.Certificate, key crypto.Signer, chain []*x509.Certificate, now time.Time) (*signer, error) {
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, errors.New("signing certificate is not a CA (basicConstraints CA and keyUsage certSign required)")
	}
	if !publicKeyEqual(cert.PublicKey, key.Public()) {
		return nil, errors.New("private key does not match the signing certificate")
	}
	if now.After(cert.NotAfter) {
		return nil, fmt.Errorf("signing certificate expired at %s", cert.NotAfter.Format(time.RFC3339))
	}
	s := &signer{cert: cert, key: key}
	inter := x509.NewCertPool()
	roots := x509.NewCertPool()
	seen := map[string]bool{}
	for _, c := range append([]*x509.Certificate{cert}, chain...) {
		if seen[string(c.Raw)] {
			continue
		}
		seen[string(c.Raw)] = true
		switch {
		case isSelfSigned(c):
			s.roots = append(s.roots, c)
			roots.AddCert(c)
		default:
			inter.AddCert(c)
			s.chainPEM = append(s.chainPEM, encodeCerts(c)...)
		}
	}
	if len(s.roots) == 0 {
		return nil, errors.New("no self-signed root: ChainFile must end with the root of the signing certificate")
	}
	_, err := cert.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, fmt.Errorf("signing certificate does not chain to the root: %w", err)
	}
	s.rootPEM = encodeCerts(s.roots...)
	return s, nil
}

// signerFromFiles reads Options.CertFile, KeyFile and ChainFile.
func signerFromFiles(o Options) (*signer, error) {
	certs, err := readCerts(o.CertFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(o.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("read CA key: %w", err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("CA key %s: %w", o.KeyFile, err)
	}
	chain := certs[1:] // a CertFile holding the whole chain is accepted too
	if o.ChainFile != "" {
		more, err := readCerts(o.ChainFile)
		if err != nil {
			return nil, err
		}
		chain = append(chain, more...)
	}
	s, err := newSigner(certs[0], key, chain, o.Now())
	if err != nil {
		return nil, fmt.Errorf("CA certificate %s: %w", o.CertFile, err)
	}
	return s, nil
}

func readCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA certificate: %w", err)
	}
	certs, err := parseCerts(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}

func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs), err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return certs, nil
}

// parseKey accepts PKCS#8, SEC 1 (EC) and PKCS#1 (RSA) keys. Errors never quote the input.
func parseKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q: want PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", block.Type, err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key type %T cannot sign", key)
	}
	return s, nil
}

func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

func publicKeyEqual(a, b crypto.PublicKey) bool {
	ka, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ka.Equal(b)
}

func encodeCerts(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

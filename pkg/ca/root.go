package ca

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
)

// rootFromStore loads the stored root, or generates one and saves it when none exists. When
// another replica saves first, its root wins and is loaded instead of ours.
func rootFromStore(ctx context.Context, o Options) (*signer, error) {
	certPEM, keyPEM, err := o.Store.Load(ctx)
	if errors.Is(err, ErrNoRoot) {
		certPEM, keyPEM, err = generateRoot(o)
		if err != nil {
			return nil, err
		}
		err = o.Store.Save(ctx, certPEM, keyPEM)
		switch {
		case err == nil:
			o.Log.InfoContext(ctx, "generated CA root", "component", "ca")
		case errors.Is(err, ErrRootExists):
			certPEM, keyPEM, err = o.Store.Load(ctx)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("ca root: %w", err)
	}
	certs, err := parseCerts(certPEM)
	if err != nil {
		return nil, fmt.Errorf("ca root certificate: %w", err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("ca root key: %w", err)
	}
	s, err := newSigner(certs[0], key, certs[1:], o.Now())
	if err != nil {
		return nil, fmt.Errorf("ca root: %w", err)
	}
	return s, nil
}

// generateRoot makes a self-signed ECDSA P-256 root for the trust domain, valid for RootTTL
// from now (backdated by clockSkew), returned as PEM certificate and PKCS#8 key.
func generateRoot(o Options) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate root key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	now := o.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{o.TrustDomain}, CommonName: "controlplane root CA"},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(o.RootTTL),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("create root certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode root key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

package ca

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"
)

// Certificate is an issued certificate with its private key.
//
// String and LogValue leave KeyPEM out, so logging a Certificate by mistake does not leak it;
// KeyPEM goes nowhere but into the "default" SDS secret of a proxy that proved Identity.
type Certificate struct {
	// Identity is the SPIFFE identity in the URI SAN (zero for serving certificates).
	Identity Identity
	// CertChainPEM is the leaf followed by the intermediates up to, not including, the root.
	CertChainPEM []byte
	// KeyPEM is the PKCS#8 ECDSA P-256 private key.
	KeyPEM []byte
	// NotBefore and NotAfter are the leaf's validity; NotBefore is backdated for clock skew.
	NotBefore, NotAfter time.Time
	// RefreshAt is when the certificate is re-issued: Options.RotateAt of the way from its
	// issue time to NotAfter.
	RefreshAt time.Time
}

// TLSCertificate is the certificate as a crypto/tls key pair, for Go clients and servers.
func (c *Certificate) TLSCertificate() (tls.Certificate, error) {
	return tls.X509KeyPair(c.CertChainPEM, c.KeyPEM)
}

// String describes the certificate without its key.
func (c *Certificate) String() string {
	return fmt.Sprintf("certificate{%s, not_after=%s, refresh_at=%s}",
		c.Identity, c.NotAfter.Format(time.RFC3339), c.RefreshAt.Format(time.RFC3339))
}

// LogValue implements slog.LogValuer without the key.
func (c *Certificate) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("identity", c.Identity.String()),
		slog.Time("not_after", c.NotAfter),
		slog.Time("refresh_at", c.RefreshAt),
	)
}

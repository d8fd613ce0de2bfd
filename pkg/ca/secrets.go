package ca

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// SDS resource names, as Istio names them (SEMANTICS.md §5.2, §6.2): translation refers to
// them in tls_certificate_sds_secret_configs and validation_context_sds_secret_config with
// sds_config {ads {}}, so the secrets arrive on the proxy's ADS stream.
const (
	// SecretDefault is the workload certificate chain and private key.
	SecretDefault = "default"
	// SecretRoot is the trust bundle that peer certificates are validated against.
	SecretRoot = "ROOTCA"
)

// Secrets returns the "default" and "ROOTCA" secrets of id, from the cached certificate (see
// Certificate). The caller must send them only to a proxy that proved id
// (IdentityFromPeer): "default" carries the private key.
func (c *CA) Secrets(id Identity) ([]*tlsv3.Secret, error) {
	cert, err := c.Certificate(id)
	if err != nil {
		return nil, err
	}
	return []*tlsv3.Secret{CertificateSecret(cert), c.RootSecret()}, nil
}

// CertificateSecret is cert as the SDS secret "default".
func CertificateSecret(cert *Certificate) *tlsv3.Secret {
	return &tlsv3.Secret{
		Name: SecretDefault,
		Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: inline(cert.CertChainPEM),
			PrivateKey:       inline(cert.KeyPEM),
		}},
	}
}

// RootSecret is the trust bundle as the SDS secret "ROOTCA". It holds no key, so any proxy
// may have it, including one that has not proved an identity.
func (c *CA) RootSecret() *tlsv3.Secret {
	return &tlsv3.Secret{
		Name: SecretRoot,
		Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			TrustedCa: inline(c.Root()),
		}},
	}
}

func inline(b []byte) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: b}}
}

package ca

import (
	"context"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// IdentitySource gives the serving layer what it needs of the CA: proof of a stream's identity
// from its verified client certificate, and the SDS secrets of a proved identity. It satisfies
// pkg/snapshot's IdentitySource without this package importing the serving layer.
type IdentitySource struct {
	CA *CA
	// TrustDomains accepted in client certificates: the trust domain and its aliases.
	TrustDomains []string
}

// Prove returns the identity of the stream's verified client certificate.
func (s IdentitySource) Prove(ctx context.Context) (namespace, serviceAccount string, err error) {
	id, err := IdentityFromGRPC(ctx, s.TrustDomains)
	return id.Namespace, id.ServiceAccount, err
}

// WorkloadSecrets returns "default" and "ROOTCA" for namespace/serviceAccount.
func (s IdentitySource) WorkloadSecrets(namespace, serviceAccount string) ([]*tlsv3.Secret, error) {
	return s.CA.Secrets(Identity{Namespace: namespace, ServiceAccount: serviceAccount})
}

// RootSecret returns "ROOTCA" alone.
func (s IdentitySource) RootSecret() *tlsv3.Secret { return s.CA.RootSecret() }

// Forget stops caching (and rotating) the certificate of namespace/serviceAccount.
func (s IdentitySource) Forget(namespace, serviceAccount string) {
	s.CA.Forget(Identity{Namespace: namespace, ServiceAccount: serviceAccount})
}

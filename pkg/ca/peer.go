package ca

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// ErrNoClientCertificate means the connection carries no verified client certificate: the
// proxy proved no identity and gets no private key (it may still get config and "ROOTCA").
var ErrNoClientCertificate = errors.New("no verified client certificate")

// IdentityFromPeer is the identity a TLS client proved: the first URI SAN of its verified
// certificate, which must be spiffe://td/ns/N/sa/S with td one of trustDomains (the trust
// domain and its aliases). An unverified certificate (state.VerifiedChains empty) proves
// nothing. The caller compares Namespace and ServiceAccount with what the node claims.
func IdentityFromPeer(state tls.ConnectionState, trustDomains []string) (Identity, error) {
	if len(state.VerifiedChains) == 0 || len(state.PeerCertificates) == 0 {
		return Identity{}, ErrNoClientCertificate
	}
	leaf := state.PeerCertificates[0]
	if len(leaf.URIs) == 0 {
		return Identity{}, fmt.Errorf("client certificate %s: no URI SAN", leaf.Subject)
	}
	id, err := identityFromURI(leaf.URIs[0])
	if err != nil {
		return Identity{}, fmt.Errorf("client certificate: %w", err)
	}
	if !slices.Contains(trustDomains, id.TrustDomain) {
		return Identity{}, fmt.Errorf("client certificate %s: trust domain %q is not one of %q", id, id.TrustDomain, trustDomains)
	}
	return id, nil
}

// IdentityFromGRPC is IdentityFromPeer for the TLS connection of a gRPC stream's context
// (an ADS stream on a server built with credentials.NewTLS(ca.ServerTLS(...))).
func IdentityFromGRPC(ctx context.Context, trustDomains []string) (Identity, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return Identity{}, ErrNoClientCertificate
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return Identity{}, ErrNoClientCertificate
	}
	return IdentityFromPeer(info.State, trustDomains)
}

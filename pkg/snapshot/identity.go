package snapshot

import (
	"context"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// IdentitySource proves proxy identities and supplies workload secrets (the built-in CA of
// pkg/ca, through a small adapter in cmd/controlplane).
type IdentitySource interface {
	// Prove returns the identity the stream's peer proved on its connection (a verified
	// client certificate with a SPIFFE ID of our trust domain), or an error.
	Prove(ctx context.Context) (namespace, serviceAccount string, err error)
	// WorkloadSecrets returns the "default" (certificate and key) and "ROOTCA" secrets of an
	// identity.
	WorkloadSecrets(namespace, serviceAccount string) ([]*tlsv3.Secret, error)
	// RootSecret is "ROOTCA" alone: public, sent to every proxy.
	RootSecret() *tlsv3.Secret
	// Forget drops an identity no connected proxy uses any more, so it is not rotated forever.
	Forget(namespace, serviceAccount string)
}

// provenKey is the node metadata key through which a stream's proved identity reaches the
// group key. Only the server sets it: markProven first deletes whatever a client sent under
// it, so a node cannot claim to be proven.
const provenKey = "controlplane.internal/proven-identity"

// markProven records on the node whether the stream proved the identity the node claims.
// It runs on every request of the stream, before the node is parsed or hashed.
func markProven(node *corev3.Node, proven string) {
	if node == nil {
		return
	}
	md := node.GetMetadata()
	if md == nil {
		if proven == "" {
			return
		}
		md = &structpb.Struct{Fields: map[string]*structpb.Value{}}
		node.Metadata = md
	}
	if proven == "" {
		delete(md.Fields, provenKey)
		return
	}
	if v, ok := md.Fields[provenKey]; ok && v.GetStringValue() == proven {
		return
	}
	md.Fields[provenKey] = structpb.NewStringValue(proven)
}

// applyProof sets p.IdentityProven when the server-set marker names exactly the namespace and
// service account the node claims.
func applyProof(p *model.Proxy, md map[string]any) {
	v, _ := md[provenKey].(string)
	p.IdentityProven = p.ServiceAccount != "" && v == p.Namespace+"/"+p.ServiceAccount
}

// withWorkloadSecrets adds what SDS serves for the workload identity: the certificate and key
// only to a group whose proxies proved that identity, the public trust bundle to everyone.
// A proxy that did not prove its identity gets no "default" secret: its mTLS chains cannot
// complete a handshake, so STRICT ports refuse traffic rather than fall back to plaintext.
func (s *Server) withWorkloadSecrets(p model.Proxy, secrets []*tlsv3.Secret) ([]*tlsv3.Secret, error) {
	id := s.opts.Identity
	if id == nil || p.WorkloadSDSCluster != "" {
		// No CA, or the proxy gets its identity from its own SDS agent (SPIRE): we hold no key.
		return secrets, nil
	}
	if !p.IdentityProven {
		return append(secrets, id.RootSecret()), nil
	}
	ws, err := id.WorkloadSecrets(p.Namespace, p.ServiceAccount)
	if err != nil {
		return append(secrets, id.RootSecret()), err
	}
	return append(secrets, ws...), nil
}

// RotateIdentities rebuilds the groups of proxies that proved one of the given identities
// ("namespace/serviceAccount"), after the CA re-issued their certificates.
func (s *Server) RotateIdentities(ids []string) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	s.mu.Lock()
	for key, g := range s.groups {
		if g.proxy.IdentityProven && want[g.proxy.Namespace+"/"+g.proxy.ServiceAccount] {
			s.dirty[key] = true
		}
	}
	s.mu.Unlock()
	s.wake()
}

package explain

import (
	"fmt"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// handshake is what the chain's transport socket makes of the connection: the peer identity
// it established, or why the connection is closed.
type handshake struct {
	terminated bool
	peer       string
	fail       string
}

// tlsHandshake models the downstream TLS handshake of a chain. The client certificate is taken
// to be signed by a CA the chain trusts (explain never sees certificates); its URI SAN must
// pass the chain's subject alt name matchers.
func tlsHandshake(fc *listenerv3.FilterChain, in Input) (handshake, error) {
	ts := fc.GetTransportSocket()
	if ts == nil || ts.GetTypedConfig() == nil {
		return handshake{}, nil
	}
	var ctx tlsv3.DownstreamTlsContext
	if err := ts.GetTypedConfig().UnmarshalTo(&ctx); err != nil {
		return handshake{}, fmt.Errorf("filter chain %q: transport socket: %w", fc.GetName(), err)
	}
	switch {
	case !in.TLS:
		return handshake{fail: "the chain terminates TLS but the client sent plaintext"}, nil
	case ctx.GetRequireClientCertificate().GetValue() && in.PeerPrincipal == "":
		return handshake{fail: "the chain requires a client certificate and the client presented none"}, nil
	}
	if in.PeerPrincipal == "" {
		return handshake{terminated: true}, nil
	}
	ok, err := sanAllowed(validationContext(ctx.GetCommonTlsContext()), in.PeerPrincipal)
	if err != nil {
		return handshake{}, fmt.Errorf("filter chain %q: %w", fc.GetName(), err)
	}
	if !ok {
		return handshake{fail: fmt.Sprintf("client certificate SAN %s matches none of the chain's subject alt name matchers", in.PeerPrincipal)}, nil
	}
	return handshake{terminated: true, peer: in.PeerPrincipal}, nil
}

func validationContext(c *tlsv3.CommonTlsContext) *tlsv3.CertificateValidationContext {
	if v := c.GetValidationContext(); v != nil {
		return v
	}
	return c.GetCombinedValidationContext().GetDefaultValidationContext()
}

// sanAllowed: with no matchers any certificate the CA signed is accepted; otherwise one URI
// SAN matcher must match.
func sanAllowed(v *tlsv3.CertificateValidationContext, san string) (bool, error) {
	ms := v.GetMatchTypedSubjectAltNames()
	if len(ms) == 0 {
		return true, nil
	}
	for _, m := range ms {
		if m.GetSanType() != tlsv3.SubjectAltNameMatcher_URI {
			continue
		}
		ok, err := rbacString(m.GetMatcher(), san)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

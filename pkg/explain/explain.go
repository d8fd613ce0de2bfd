package explain

import (
	"fmt"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
)

// evaluation is one request's walk through a proxy's configuration.
type evaluation struct {
	cfg Config
	in  Input
	out *Outcome
	// peer is the client identity the chain's TLS established, "" when none (plaintext, TLS
	// passed through, no client certificate).
	peer string
	// tls: this chain terminated the client's TLS.
	tls bool
	sni string
	// meta is the dynamic metadata filters wrote, by filter namespace.
	meta map[string]map[string]any
}

// Evaluate says what a proxy with configuration cfg does with one request or connection, step
// by step: the listener, the filter chain (as Envoy's filter chain matcher picks it), the TLS
// handshake, then the network filters in order; on an HTTP chain the HTTP filters in order
// (ext_authz, jwt_authn, RBAC, ...) and the route; on a TCP chain tcp_proxy. The error reports
// configuration this evaluator does not model, never a denial.
func Evaluate(cfg Config, in Input) (Outcome, error) {
	out := &Outcome{}
	e := &evaluation{cfg: cfg, in: in, out: out, meta: map[string]map[string]any{}}
	l, why := pickListener(cfg.Listeners, in.Port)
	if l == nil {
		out.step("listener", "", "no listener accepts connections on port %d", in.Port)
		out.close(Decision{Filter: "listener", Reason: fmt.Sprintf("no listener on port %d", in.Port)})
		return *out, nil
	}
	out.step("listener", l.GetName(), "%s", why)
	c := newConn(l, in)
	fc, why := matchChain(l, c)
	if fc == nil {
		out.step("filter_chain", "", "%s: the connection is closed", why)
		out.close(Decision{Filter: "filter_chain_match", Reason: why})
		return *out, nil
	}
	out.step("filter_chain", fc.GetName(), "matched: %s", describeConn(c, why))
	hs, err := tlsHandshake(fc, in)
	if err != nil {
		return *out, err
	}
	switch {
	case hs.fail != "":
		out.step("tls", fc.GetName(), "handshake fails: %s", hs.fail)
		out.close(Decision{Filter: "tls", Reason: hs.fail})
		return *out, nil
	case hs.terminated && hs.peer != "":
		out.step("tls", fc.GetName(), "terminated; peer identity %s", hs.peer)
	case hs.terminated:
		out.step("tls", fc.GetName(), "terminated; no client certificate, so no peer identity")
	case in.TLS:
		out.step("tls", fc.GetName(), "not terminated on this chain: the bytes pass through and no peer identity is known")
	}
	e.peer, e.tls, e.sni = hs.peer, hs.terminated, c.sni
	if err := e.network(fc); err != nil {
		return *out, err
	}
	return *out, nil
}

func describeConn(c conn, why string) string {
	s := fmt.Sprintf("destination port %d, transport %s", c.destPort, c.transport)
	if c.sni != "" {
		s += ", SNI " + c.sni
	}
	if len(c.alpn) > 0 {
		s += ", ALPN " + strings.Join(c.alpn, ",")
	}
	if why != "" {
		s += " (" + why + ")"
	}
	return s
}

// network runs the chain's network filters in order; the terminal one (HCM or tcp_proxy)
// decides the rest.
func (e *evaluation) network(fc *listenerv3.FilterChain) error {
	for _, f := range fc.GetFilters() {
		msg, err := unpack(f.GetTypedConfig())
		if err != nil {
			return fmt.Errorf("filter chain %q: filter %s: %w", fc.GetName(), f.GetName(), err)
		}
		done, err := e.networkFilter(f.GetName(), msg)
		if err != nil {
			return fmt.Errorf("filter chain %q: filter %s: %w", fc.GetName(), f.GetName(), err)
		}
		if done {
			return nil
		}
	}
	return fmt.Errorf("filter chain %q has no terminal filter (http_connection_manager or tcp_proxy)", fc.GetName())
}

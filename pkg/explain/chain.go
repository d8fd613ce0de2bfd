package explain

import (
	"net/netip"
	"slices"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
)

// conn is what Envoy's filter chain matcher knows of a connection once the listener filters
// ran. Without tls_inspector the transport protocol is always raw_buffer and neither SNI nor
// ALPN is known.
type conn struct {
	destPort         uint32
	destIP, sourceIP string
	transport, sni   string
	alpn             []string
}

func newConn(l *listenerv3.Listener, in Input) conn {
	c := conn{destPort: in.Port, destIP: in.DestinationIP, sourceIP: in.SourceIP, transport: "raw_buffer"}
	if in.TLS && hasListenerFilter(l, "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector") {
		c.transport, c.sni, c.alpn = "tls", strings.ToLower(in.SNI), in.ALPN
	}
	return c
}

// chainCriterion scores one FilterChainMatch field for a connection: -1 excludes the chain, 0
// is a chain that does not set the field (a wildcard), higher is more specific.
type chainCriterion struct {
	name  string
	score func(m *listenerv3.FilterChainMatch, c conn) int
}

// chainCriteria are Envoy's, in its order (FilterChainMatch docs): at each level only the
// most specific chains stay, and a later level never falls back to a chain an earlier level
// dropped, exactly as Envoy's matching tree does not backtrack.
func chainCriteria() []chainCriterion {
	return []chainCriterion{
		{"destination_port", func(m *listenerv3.FilterChainMatch, c conn) int {
			if m.GetDestinationPort() == nil {
				return 0
			}
			return boolScore(m.GetDestinationPort().GetValue() == c.destPort)
		}},
		{"prefix_ranges", func(m *listenerv3.FilterChainMatch, c conn) int { return prefixScore(m.GetPrefixRanges(), c.destIP) }},
		{"server_names", func(m *listenerv3.FilterChainMatch, c conn) int { return serverNameScore(m.GetServerNames(), c.sni) }},
		{"transport_protocol", func(m *listenerv3.FilterChainMatch, c conn) int {
			if m.GetTransportProtocol() == "" {
				return 0
			}
			return boolScore(m.GetTransportProtocol() == c.transport)
		}},
		{"application_protocols", func(m *listenerv3.FilterChainMatch, c conn) int {
			if len(m.GetApplicationProtocols()) == 0 {
				return 0
			}
			return boolScore(slices.ContainsFunc(c.alpn, func(p string) bool { return slices.Contains(m.GetApplicationProtocols(), p) }))
		}},
		{"direct_source_prefix_ranges", func(m *listenerv3.FilterChainMatch, c conn) int {
			return prefixScore(m.GetDirectSourcePrefixRanges(), c.sourceIP)
		}},
		{"source_type", func(m *listenerv3.FilterChainMatch, c conn) int { return sourceTypeScore(m.GetSourceType(), c) }},
		{"source_prefix_ranges", func(m *listenerv3.FilterChainMatch, c conn) int {
			return prefixScore(m.GetSourcePrefixRanges(), c.sourceIP)
		}},
		{"source_ports", func(m *listenerv3.FilterChainMatch, c conn) int {
			// The client's source port is not part of a request description: a chain that
			// requires one is taken not to match.
			if len(m.GetSourcePorts()) == 0 {
				return 0
			}
			return -1
		}},
	}
}

// matchChain returns the filter chain Envoy picks, the default chain when no chain matches,
// or nil; why says what ruled the others out.
func matchChain(l *listenerv3.Listener, c conn) (chain *listenerv3.FilterChain, why string) {
	cands := l.GetFilterChains()
	for _, crit := range chainCriteria() {
		best, kept := -1, []*listenerv3.FilterChain(nil)
		for _, fc := range cands {
			switch s := crit.score(fc.GetFilterChainMatch(), c); {
			case s > best:
				best, kept = s, []*listenerv3.FilterChain{fc}
			case s == best && s >= 0:
				kept = append(kept, fc)
			}
		}
		if best < 0 {
			why = "no filter chain matches on " + crit.name
			cands = nil
			break
		}
		cands = kept
	}
	if len(cands) > 0 {
		return cands[0], ""
	}
	if d := l.GetDefaultFilterChain(); d != nil {
		return d, why + "; the default filter chain is used"
	}
	if why == "" {
		why = "the listener has no filter chains"
	}
	return nil, why
}

func boolScore(ok bool) int {
	if ok {
		return 1
	}
	return -1
}

// prefixScore: the longest matching range wins; an unknown address matches no range.
func prefixScore(ranges []*corev3.CidrRange, ip string) int {
	if len(ranges) == 0 {
		return 0
	}
	best := -1
	for _, r := range ranges {
		if ok, _ := rbacInCIDR(r, ip); ok {
			best = max(best, int(r.GetPrefixLen().GetValue())+1)
		}
	}
	return best
}

// serverNameScore: an exact name beats any wildcard, a longer wildcard suffix a shorter one.
func serverNameScore(names []string, sni string) int {
	if len(names) == 0 {
		return 0
	}
	best := -1
	for _, n := range names {
		n = strings.ToLower(n)
		switch {
		case n == sni && sni != "":
			return 1 << 20
		case strings.HasPrefix(n, "*.") && strings.HasSuffix(sni, n[1:]) && len(sni) > len(n)-1:
			best = max(best, len(n))
		}
	}
	return best
}

// sourceTypeScore: SAME_IP_OR_LOOPBACK is a connection from the proxy's own host.
func sourceTypeScore(t listenerv3.FilterChainMatch_ConnectionSourceType, c conn) int {
	if t == listenerv3.FilterChainMatch_ANY {
		return 0
	}
	a, err := netip.ParseAddr(c.sourceIP)
	local := err == nil && (a.IsLoopback() || c.sourceIP == c.destIP)
	return boolScore(local == (t == listenerv3.FilterChainMatch_SAME_IP_OR_LOOPBACK))
}

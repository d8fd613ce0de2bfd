package explain

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func chainTest(name string, m *listenerv3.FilterChainMatch) *listenerv3.FilterChain {
	return &listenerv3.FilterChain{Name: name, FilterChainMatch: m}
}

// TestMatchChain pins Envoy's filter chain selection: criteria in order, the most specific
// value wins at each level, and no backtracking to a chain an earlier level dropped.
func TestMatchChain(t *testing.T) {
	t.Parallel()
	mesh := []string{"istio", "istio-peer-exchange"}
	inbound := []*listenerv3.FilterChain{
		chainTest("80-mtls", &listenerv3.FilterChainMatch{DestinationPort: wrapperspb.UInt32(80), TransportProtocol: "tls", ApplicationProtocols: mesh}),
		chainTest("80-raw", &listenerv3.FilterChainMatch{DestinationPort: wrapperspb.UInt32(80), TransportProtocol: "raw_buffer"}),
		chainTest("9000-mtls", &listenerv3.FilterChainMatch{DestinationPort: wrapperspb.UInt32(9000), TransportProtocol: "tls", ApplicationProtocols: mesh}),
		chainTest("9000-tls", &listenerv3.FilterChainMatch{DestinationPort: wrapperspb.UInt32(9000), TransportProtocol: "tls"}),
		chainTest("any-port", &listenerv3.FilterChainMatch{TransportProtocol: "raw_buffer"}),
	}
	sni := []*listenerv3.FilterChain{
		chainTest("exact", &listenerv3.FilterChainMatch{ServerNames: []string{"a.example.com"}}),
		chainTest("wild", &listenerv3.FilterChainMatch{ServerNames: []string{"*.example.com"}}),
		chainTest("wild-long", &listenerv3.FilterChainMatch{ServerNames: []string{"*.b.example.com"}, TransportProtocol: "tls"}),
		chainTest("nosni-raw", &listenerv3.FilterChainMatch{TransportProtocol: "raw_buffer"}),
	}
	ranges := []*listenerv3.FilterChain{
		chainTest("wide", &listenerv3.FilterChainMatch{PrefixRanges: []*corev3.CidrRange{{AddressPrefix: "10.0.0.0", PrefixLen: wrapperspb.UInt32(8)}}}),
		chainTest("narrow", &listenerv3.FilterChainMatch{PrefixRanges: []*corev3.CidrRange{{AddressPrefix: "10.1.0.0", PrefixLen: wrapperspb.UInt32(16)}}}),
		chainTest("local", &listenerv3.FilterChainMatch{SourceType: listenerv3.FilterChainMatch_SAME_IP_OR_LOOPBACK}),
	}
	tests := map[string]struct {
		chains []*listenerv3.FilterChain
		def    *listenerv3.FilterChain
		c      conn
		want   string // chain name, "" for none
	}{
		"mesh mTLS":                      {chains: inbound, c: conn{destPort: 80, transport: "tls", alpn: []string{"istio"}}, want: "80-mtls"},
		"plaintext":                      {chains: inbound, c: conn{destPort: 80, transport: "raw_buffer"}, want: "80-raw"},
		"TLS without mesh ALPN, HTTP":    {chains: inbound, c: conn{destPort: 80, transport: "tls", alpn: []string{"h2"}}},
		"TLS without mesh ALPN, TCP":     {chains: inbound, c: conn{destPort: 9000, transport: "tls", alpn: []string{"h2"}}, want: "9000-tls"},
		"port chain beats any-port":      {chains: inbound, c: conn{destPort: 80, transport: "raw_buffer"}, want: "80-raw"},
		"unknown port: wildcard chain":   {chains: inbound, c: conn{destPort: 81, transport: "raw_buffer"}, want: "any-port"},
		"no backtracking to any-port":    {chains: inbound, c: conn{destPort: 9000, transport: "raw_buffer"}},
		"exact SNI beats wildcard":       {chains: sni, c: conn{transport: "tls", sni: "a.example.com"}, want: "exact"},
		"longest wildcard wins":          {chains: sni, c: conn{transport: "tls", sni: "x.b.example.com"}, want: "wild-long"},
		"wildcard stops at its level":    {chains: sni, c: conn{transport: "raw_buffer", sni: "x.b.example.com"}},
		"wildcard needs a label":         {chains: sni, c: conn{transport: "raw_buffer", sni: "example.com"}, want: "nosni-raw"},
		"no SNI: chains without names":   {chains: sni, c: conn{transport: "raw_buffer"}, want: "nosni-raw"},
		"longest prefix range wins":      {chains: ranges, c: conn{destIP: "10.1.2.3", sourceIP: "127.0.0.1"}, want: "narrow"},
		"outside ranges: unset chain":    {chains: ranges, c: conn{destIP: "192.168.0.1", sourceIP: "127.0.0.1"}, want: "local"},
		"source type excludes external":  {chains: ranges, c: conn{destIP: "192.168.0.1", sourceIP: "192.168.0.9"}},
		"default chain when none match":  {chains: inbound, def: chainTest("default", nil), c: conn{destPort: 9000, transport: "raw_buffer"}, want: "default"},
		"listener without chains closes": {c: conn{destPort: 80}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := &listenerv3.Listener{FilterChains: tc.chains, DefaultFilterChain: tc.def}
			got, why := matchChain(l, tc.c)
			if got.GetName() != tc.want || (got == nil && why == "") {
				t.Errorf("matchChain = %q (%s), want %q", got.GetName(), why, tc.want)
			}
		})
	}
}

// TestNewConnNeedsTLSInspector: without tls_inspector Envoy never learns the connection is TLS.
func TestNewConnNeedsTLSInspector(t *testing.T) {
	t.Parallel()
	in := Input{Port: 443, TLS: true, SNI: "A.example.com", ALPN: []string{"h2"}}
	if c := newConn(&listenerv3.Listener{}, in); c.transport != "raw_buffer" || c.sni != "" {
		t.Errorf("without tls_inspector: %+v, want raw_buffer and no SNI", c)
	}
	l := &listenerv3.Listener{ListenerFilters: []*listenerv3.ListenerFilter{{
		Name:       "envoy.filters.listener.tls_inspector",
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: mustAnyTest(t, tlsInspectorConfig())},
	}}}
	if c := newConn(l, in); c.transport != "tls" || c.sni != "a.example.com" || len(c.alpn) != 1 {
		t.Errorf("with tls_inspector: %+v, want tls, SNI a.example.com, ALPN h2", c)
	}
}

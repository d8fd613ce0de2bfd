package translate

import (
	"fmt"
	"slices"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	originaldstv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/original_dst/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// inboundPort is one workload port the sidecar accepts traffic on, and what serves it.
type inboundPort struct {
	target   uint32 // the application's port on loopback
	protocol protocol
	service  *service // the first service (by host) exposing it, for problems
}

// sidecarResources builds a sidecar's configuration: inbound listeners for the ports of the
// services its workload implements (found by the ServiceEntries whose workloadSelector
// matches the proxy), and outbound listeners and clusters for every service it may call.
func sidecarResources(in Inputs) (Resources, []model.Problem) {
	var r Resources
	var problems []model.Problem
	reg := registryOf(in.Store)
	ports, ps := workloadPorts(in, reg)
	problems = append(problems, ps...)

	inbound, ps := inboundResources(in, ports)
	problems = append(problems, ps...)
	outbound, ps := outboundResources(in, reg, newClusterSet())
	problems = append(problems, ps...)

	r.Listeners = append(inbound.Listeners, outbound.Listeners...)
	r.Routes = outbound.Routes
	r.Clusters = append(inbound.Clusters, outbound.Clusters...)
	r.Endpoints = outbound.Endpoints
	r.KeySources = jwtKeySources(in)
	r.Secrets, r.UnansweredSecrets = credentialSecrets(in, r)
	return r, problems
}

// workloadPorts finds the services this workload implements and the workload ports they
// target. Two services targeting one port with different protocols are reported; the first
// (by host) decides.
func workloadPorts(in Inputs, reg *registry) ([]inboundPort, []model.Problem) {
	byTarget := map[uint32]inboundPort{}
	var problems []model.Problem
	for _, svc := range reg.all {
		if svc.Namespace != in.Proxy.Namespace || len(svc.Selector) == 0 ||
			!model.SelectorMatches(svc.Selector, in.Proxy.Labels) {
			continue
		}
		self := selfEndpoint(in, svc)
		for _, p := range svc.Ports {
			tp := self.targetPort(p)
			ip := inboundPort{target: tp, protocol: protocolOf(p), service: svc}
			prev, seen := byTarget[tp]
			switch {
			case !seen:
				byTarget[tp] = ip
			case prev.protocol != ip.protocol:
				problems = append(problems, model.ProblemFor(svc.Origin, model.SeverityWarning, "spec.ports",
					"workload port %d is also targeted by %s with another protocol; that one is used", tp, prev.service.Host))
			}
		}
	}
	out := make([]inboundPort, 0, len(byTarget))
	for _, tp := range slicesSortedKeys32(byTarget) {
		out = append(out, byTarget[tp])
	}
	return out, problems
}

// selfEndpoint is the endpoint of svc that is this proxy's workload (its WorkloadEntry, by
// address), whose port map may override target ports; an empty endpoint otherwise.
func selfEndpoint(in Inputs, svc *service) endpoint {
	for _, e := range svc.Endpoints {
		if in.Proxy.IP != "" && e.Address == in.Proxy.IP {
			return e
		}
	}
	return endpoint{}
}

// inboundResources builds the inbound side: with transparent interception one virtualInbound
// listener (15006) with a filter chain per workload port matched on the original destination
// port; in explicit mode one listener per workload port. Ports not declared by any service
// have no chain, so such connections are refused rather than passed through unchecked.
func inboundResources(in Inputs, ports []inboundPort) (Resources, []model.Problem) {
	var r Resources
	pa, problems := peerAuthnFor(in, in.Proxy.Namespace, in.Proxy.Labels)
	filters := newPolicyFilters(in, &problems)
	var chains []*listenerv3.FilterChain
	for _, p := range ports {
		r.Clusters = append(r.Clusters, inboundCluster(p.target, p.protocol))
		cs := inboundChains(in, p, pa.forPort(p.target), filters)
		if in.Proxy.Interception == model.InterceptionExplicit {
			lp := in.Proxy.InboundListenPort(p.target)
			r.Listeners = append(r.Listeners, &listenerv3.Listener{
				Name:            fmt.Sprintf("inbound_%d", lp),
				Address:         socketAddress("0.0.0.0", lp),
				ListenerFilters: tlsInspectorIfNeeded(cs),
				FilterChains:    cs,
			})
			continue
		}
		for _, c := range cs {
			c.FilterChainMatch = mergeChainMatch(c.GetFilterChainMatch(), p.target)
		}
		chains = append(chains, cs...)
	}
	if in.Proxy.Interception != model.InterceptionExplicit && len(chains) > 0 {
		r.Listeners = append(r.Listeners, &listenerv3.Listener{
			Name:            virtualInbound,
			Address:         socketAddress("0.0.0.0", virtualInboundPort),
			ListenerFilters: append([]*listenerv3.ListenerFilter{originalDstFilter()}, tlsInspectorIfNeeded(chains)...),
			FilterChains:    chains,
		})
	}
	return r, problems
}

// inboundChains builds the filter chains for one workload port from its PeerAuthentication
// mode (SEMANTICS.md §5.2). Chain names: "inbound|<port>||" plaintext, "inbound|<port>||mtls"
// terminating mesh mTLS, "inbound|<port>||tls" passing a non-mesh client's TLS through. Every
// chain carries the port's authorization filters, TLS or not: on a plaintext or passthrough
// chain no peer identity is known, so identity rules cannot match there.
func inboundChains(in Inputs, p inboundPort, mode mtlsMode, filters policyFilters) []*listenerv3.FilterChain {
	plain := func() *listenerv3.FilterChain { return plaintextInboundChain(in, p, filters) }
	mtls := func(alpn []string) *listenerv3.FilterChain {
		c := plain()
		c.Name += "mtls"
		c.FilterChainMatch = &listenerv3.FilterChainMatch{TransportProtocol: "tls", ApplicationProtocols: alpn}
		c.TransportSocket = tlsTransportSocket(meshServerTLS(in.Store.Mesh, p.protocol.isHTTP()))
		return c
	}
	switch mode {
	case mtlsDisable:
		return []*listenerv3.FilterChain{plain()}
	case mtlsStrict:
		return []*listenerv3.FilterChain{mtls(nil)}
	}
	raw := plain()
	raw.FilterChainMatch = &listenerv3.FilterChainMatch{TransportProtocol: "raw_buffer"}
	if p.protocol.isHTTP() {
		return []*listenerv3.FilterChain{mtls(meshALPN()), raw}
	}
	// A TLS client that offers no mesh ALPN is not a mesh peer: its bytes go to the
	// application untouched, which may terminate that TLS itself.
	passthrough := plain()
	passthrough.Name += "tls"
	passthrough.FilterChainMatch = &listenerv3.FilterChainMatch{TransportProtocol: "tls"}
	return []*listenerv3.FilterChain{mtls(meshALPN()), passthrough, raw}
}

// tlsInspectorIfNeeded adds envoy.filters.listener.tls_inspector when a chain matches on what
// only it can read: transport protocol, ALPN or SNI.
func tlsInspectorIfNeeded(chains []*listenerv3.FilterChain) []*listenerv3.ListenerFilter {
	for _, c := range chains {
		m := c.GetFilterChainMatch()
		if m.GetTransportProtocol() != "" || len(m.GetApplicationProtocols()) > 0 || len(m.GetServerNames()) > 0 {
			return []*listenerv3.ListenerFilter{tlsInspectorFilter()}
		}
	}
	return nil
}

// plaintextInboundChain terminates HTTP with the policy filters, or proxies TCP behind the
// network authorization filters.
func plaintextInboundChain(in Inputs, p inboundPort, filters policyFilters) *listenerv3.FilterChain {
	cluster := inboundClusterName(p.target)
	statPrefix := fmt.Sprintf("inbound_0.0.0.0_%d", p.target)
	if p.protocol.isHTTP() {
		return &listenerv3.FilterChain{
			Name: cluster,
			Filters: []*listenerv3.Filter{httpConnectionManager(hcmOptions{
				statPrefix: statPrefix,
				routes:     inboundRouteConfig(cluster),
				filters:    filters.http(),
			})},
		}
	}
	return &listenerv3.FilterChain{
		Name:    cluster,
		Filters: append(slices.Clone(filters.network()), tcpProxy(statPrefix, cluster)),
	}
}

func inboundRouteConfig(cluster string) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{
		Name: cluster,
		VirtualHosts: []*routev3.VirtualHost{{
			Name:    "inbound|http",
			Domains: []string{"*"},
			Routes: []*routev3.Route{{
				Name:  "default",
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{
					ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster},
					Timeout:          zeroDuration(),
				}},
			}},
		}},
	}
}

func mergeChainMatch(m *listenerv3.FilterChainMatch, port uint32) *listenerv3.FilterChainMatch {
	if m == nil {
		m = &listenerv3.FilterChainMatch{}
	}
	m.DestinationPort = uint32Value(port)
	return m
}

func originalDstFilter() *listenerv3.ListenerFilter {
	return &listenerv3.ListenerFilter{
		Name:       "envoy.filters.listener.original_dst",
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: mustAny(&originaldstv3.OriginalDst{})},
	}
}

package translate

import (
	"fmt"
	"slices"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// passthroughChains builds the chains of a PASSTHROUGH server (SEMANTICS.md §7.2): one per
// match of a bound VirtualService tls route, selected by SNI, proxying the still-encrypted
// bytes to the route's destination behind the network authorization filters. Chain names are
// "<ns>/<virtualservice>/tls[<i>]" (with "/match[<j>]" after the first match).
func passthroughChains(rc routeContext, s gatewayServer, claims *sniClaims, filters policyFilters) ([]*listenerv3.FilterChain, []model.Problem) {
	var chains []*listenerv3.FilterChain
	var problems []model.Problem
	for _, vs := range rc.in.Store.VirtualServices {
		if !containsGatewayOrDefault(vs, s.ref()) {
			continue
		}
		for i, tr := range vs.Spec.GetTls() {
			field := fmt.Sprintf("spec.tls[%d]", i)
			for j, m := range tr.GetMatch() {
				if (m.GetPort() != 0 && m.GetPort() != rc.port) ||
					(len(m.GetGateways()) > 0 && !containsGateway(m.GetGateways(), vs.Namespace, s.ref())) {
					continue
				}
				names, matched := passthroughNames(s, vs, m.GetSniHosts())
				if !matched {
					continue
				}
				names, ok, ps := claims.claim(s, names)
				problems = append(problems, ps...)
				if !ok {
					continue
				}
				name := fmt.Sprintf("%s/%s/tls[%d]", vs.Namespace, vs.Name, i)
				if j > 0 {
					name += fmt.Sprintf("/match[%d]", j)
				}
				proxy, ps := routeProxy(rc, vs, tr.GetRoute(), field, name)
				problems = append(problems, ps...)
				chains = append(chains, &listenerv3.FilterChain{
					Name:             name,
					FilterChainMatch: sniMatch(names),
					Filters:          append(slices.Clone(filters.network()), proxy),
				})
			}
		}
	}
	if len(chains) == 0 {
		problems = append(problems, model.ProblemFor(&s.gw.Meta, model.SeverityWarning, s.field(),
			"PASSTHROUGH server: no VirtualService tls route bound to this gateway matches its hosts; nothing is served"))
	}
	return chains, problems
}

// passthroughNames intersects a route's sniHosts with the server's hosts (honouring the
// server's "namespace/host" binding restriction); a "*" result is the catch-all (no names).
func passthroughNames(s gatewayServer, vs *model.VirtualService, sniHosts []string) ([]string, bool) {
	var out []string
	matched := false
	for _, host := range s.hostsFor(vs.Namespace) {
		for _, sni := range sniHosts {
			h, ok := hostIntersection(host, sni)
			if !ok {
				continue
			}
			matched = true
			if h == "*" {
				return nil, true
			}
			out = append(out, strings.ToLower(h))
		}
	}
	slices.Sort(out)
	return slices.Compact(out), matched
}

// routeProxy is the tcp_proxy of a TLS or TCP route: its destinations by weight. With none
// that resolves, connections go to the black hole (closed), never elsewhere.
func routeProxy(rc routeContext, vs *model.VirtualService, route []*networkingv1alpha3.RouteDestination, field, statPrefix string) (*listenerv3.Filter, []model.Problem) {
	var problems []model.Problem
	var weighted []*tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight
	for i, d := range route {
		name, reason := rc.resolve(vs.Namespace, d.GetDestination())
		if reason != "" {
			problems = append(problems, model.ProblemFor(&vs.Meta, model.SeverityError,
				fmt.Sprintf("%s.route[%d].destination", field, i), "%s", strings.Replace(reason, "requests get 503", "connections are closed", 1)))
			continue
		}
		w := uint32(d.GetWeight())
		if len(route) == 1 {
			w = 100
		}
		if w > 0 {
			weighted = append(weighted, &tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight{Name: name, Weight: w})
		}
	}
	switch len(weighted) {
	case 0:
		return tcpProxy(statPrefix, blackholeCluster), problems
	case 1:
		return tcpProxy(statPrefix, weighted[0].GetName()), problems
	}
	return &listenerv3.Filter{
		Name: "envoy.filters.network.tcp_proxy",
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(&tcpproxyv3.TcpProxy{
			StatPrefix:       statPrefix,
			ClusterSpecifier: &tcpproxyv3.TcpProxy_WeightedClusters{WeightedClusters: &tcpproxyv3.TcpProxy_WeightedCluster{Clusters: weighted}},
		})},
	}, problems
}

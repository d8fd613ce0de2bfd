package translate

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// httpsRouteName names the route configuration of one HTTPS server:
// "https.<port>.<server name, else its index>.<gateway>.<namespace>".
func httpsRouteName(port uint32, s gatewayServer) string {
	key := s.server.GetName()
	if key == "" {
		key = strconv.Itoa(s.index)
	}
	return fmt.Sprintf("https.%d.%s.%s.%s", port, key, s.gw.Name, s.gw.Namespace)
}

// gatewayTLSListener builds the listener of a port whose servers terminate or pass through TLS
// (SEMANTICS.md §7.1): a filter chain per HTTPS server and per terminating TLS server (routed
// by tcp routes), chosen by SNI, and one per TLS route of a PASSTHROUGH server. A listener left
// without chains is not emitted.
func gatewayTLSListener(rc routeContext, servers []gatewayServer, filters policyFilters) (*listenerv3.Listener, []*routev3.RouteConfiguration, []model.Problem) {
	var problems []model.Problem
	var chains []*listenerv3.FilterChain
	var routes []*routev3.RouteConfiguration
	claims := sniClaims{port: rc.port, owner: map[string]string{}}
	for _, s := range oldestFirst(servers) {
		field := s.field() + ".tls.mode"
		switch s.server.GetTls().GetMode() {
		case networkingv1alpha3.ServerTLSSettings_AUTO_PASSTHROUGH:
			problems = append(problems, model.ProblemFor(&s.gw.Meta, model.SeverityError, field,
				"AUTO_PASSTHROUGH is not supported; server skipped"))
		case networkingv1alpha3.ServerTLSSettings_PASSTHROUGH:
			cs, ps := passthroughChains(rc, s, &claims, filters)
			chains, problems = append(chains, cs...), append(problems, ps...)
		default:
			names, ok, ps := claims.claim(s, serverNames(s.server.GetHosts()))
			problems = append(problems, ps...)
			if !ok {
				continue
			}
			if !strings.EqualFold(s.server.GetPort().GetProtocol(), "HTTPS") {
				c, ps := tlsTerminatedTCPChain(rc, s, names, filters)
				problems = append(problems, ps...)
				if c != nil {
					chains = append(chains, c)
				}
				continue
			}
			c, rcfg, ps := httpsChain(rc, s, names, filters)
			chains, routes, problems = append(chains, c), append(routes, rcfg), append(problems, ps...)
		}
	}
	if len(chains) == 0 {
		return nil, routes, problems
	}
	return &listenerv3.Listener{
		Name:            listenerName("0.0.0.0", rc.port),
		Address:         socketAddress("0.0.0.0", rc.port),
		ListenerFilters: []*listenerv3.ListenerFilter{tlsInspectorFilter()},
		FilterChains:    chains,
	}, routes, problems
}

// httpsChain terminates TLS for one server and routes with the VirtualServices bound to it.
func httpsChain(rc routeContext, s gatewayServer, names []string, filters policyFilters) (*listenerv3.FilterChain, *routev3.RouteConfiguration, []model.Problem) {
	rcfg, problems := gatewayRouteConfig(rc, rc.port, []gatewayServer{s})
	rcfg.Name = httpsRouteName(rc.port, s)
	ctx, ps := gatewayServerTLS(rc.in, s)
	problems = append(problems, ps...)
	statPrefix := s.server.GetName()
	if statPrefix == "" {
		statPrefix = rcfg.Name
	}
	return &listenerv3.FilterChain{
		Name:             rcfg.Name,
		FilterChainMatch: sniMatch(names),
		TransportSocket:  tlsTransportSocket(ctx),
		Filters: []*listenerv3.Filter{httpConnectionManager(hcmOptions{
			statPrefix: statPrefix, rdsName: rcfg.Name, filters: filters.http(), edge: true,
		})},
	}, rcfg, problems
}

// serverNames turns server hosts into SNI names: "ns/" prefixes removed, sorted, without
// repeats; a "*" host matches any SNI (and none), so the chain gets no server_names at all.
func serverNames(hosts []string) []string {
	var out []string
	for _, h := range hosts {
		if _, host, ok := strings.Cut(h, "/"); ok {
			h = host
		}
		if h == "*" {
			return nil
		}
		out = append(out, strings.ToLower(h))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// oldestFirst orders a port's servers as Istio's gateway merge does: the oldest Gateway
// (creationTimestamp, source order, namespace/name) first, servers in their written order.
func oldestFirst(servers []gatewayServer) []gatewayServer {
	out := slices.Clone(servers)
	slices.SortStableFunc(out, func(a, b gatewayServer) int {
		return cmp.Or(a.gw.CreationTimestamp.Compare(b.gw.CreationTimestamp), cmp.Compare(a.gw.Order, b.gw.Order),
			cmp.Compare(a.gw.Namespace, b.gw.Namespace), cmp.Compare(a.gw.Name, b.gw.Name), cmp.Compare(a.index, b.index))
	})
	return out
}

// sniClaims keeps each SNI name (or the catch-all "*") on one chain of a port: Envoy rejects
// a listener whose chains match the same names, so a later server loses a name already taken.
type sniClaims struct {
	port  uint32
	owner map[string]string // SNI name or "*" -> the server that has it
}

// claim returns the names left to s; ok is false when nothing is left (a chain without
// server_names would catch every other name instead).
func (c *sniClaims) claim(s gatewayServer, names []string) ([]string, bool, []model.Problem) {
	me := s.ref() + " " + s.field()
	var problems []model.Problem
	taken := func(name string) bool {
		if prev, ok := c.owner[name]; ok {
			problems = append(problems, model.ProblemFor(&s.gw.Meta, model.SeverityWarning, s.field()+".hosts",
				"host %q is already served on port %d by %s; the first server keeps it", name, c.port, prev))
			return true
		}
		return false
	}
	if len(names) == 0 {
		if taken("*") {
			return nil, false, problems
		}
		c.owner["*"] = me
		return nil, true, nil
	}
	var kept []string
	for _, n := range names {
		if !taken(n) {
			kept = append(kept, n)
		}
	}
	for _, n := range kept {
		c.owner[n] = me
	}
	return kept, len(kept) > 0, problems
}

// sniMatch matches a chain on SNI names; none makes it the port's catch-all chain.
func sniMatch(names []string) *listenerv3.FilterChainMatch {
	if len(names) == 0 {
		return nil
	}
	return &listenerv3.FilterChainMatch{ServerNames: names}
}

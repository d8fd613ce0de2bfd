package translate

import (
	"fmt"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// gatewayServer is one server of a Gateway that selects this proxy.
type gatewayServer struct {
	gw     *model.Gateway
	index  int
	server *networkingv1alpha3.Server
}

func (s gatewayServer) ref() string   { return s.gw.Namespace + "/" + s.gw.Name }
func (s gatewayServer) field() string { return fmt.Sprintf("spec.servers[%d]", s.index) }

// gatewayResources builds a gateway proxy's configuration from the Gateways whose selector
// matches its labels (in any namespace, Istio's default) and the VirtualServices bound to them:
// one listener per port, one route configuration per HTTP port.
func gatewayResources(in Inputs) (Resources, []model.Problem) {
	var r Resources
	var problems []model.Problem
	reg := registryOf(in.Store)
	clusters := newClusterSet()
	byPort, ps := gatewayServersByPort(in)
	problems = append(problems, ps...)
	filters := newPolicyFilters(in, &problems)
	for _, port := range slicesSortedKeys32(byPort) {
		servers := byPort[port]
		rc := routeContext{in: in, reg: reg, clusters: clusters, port: port}
		if servers[0].class() == classTCP {
			l, ps := gatewayTCPListener(rc, servers, filters)
			problems = append(problems, ps...)
			if l != nil {
				r.Listeners = append(r.Listeners, l)
			}
			continue
		}
		if servers[0].isTLS() {
			l, routes, ps := gatewayTLSListener(rc, servers, filters)
			problems = append(problems, ps...)
			r.Routes = append(r.Routes, routes...)
			if l != nil {
				r.Listeners = append(r.Listeners, l)
			}
			continue
		}
		routes, ps := gatewayRouteConfig(rc, port, servers)
		problems = append(problems, ps...)
		r.Routes = append(r.Routes, routes)
		r.Listeners = append(r.Listeners, &listenerv3.Listener{
			Name:    listenerName("0.0.0.0", port),
			Address: socketAddress("0.0.0.0", port),
			FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{httpConnectionManager(hcmOptions{
				statPrefix: "outbound_" + listenerName("0.0.0.0", port),
				rdsName:    routes.GetName(),
				filters:    filters.http(),
				edge:       true,
			})}}},
		})
	}
	keys, ps := extAuthzClusterKeys(in, reg)
	problems = append(problems, ps...)
	for _, k := range keys {
		clusters.add(k)
	}
	cs, eds, ps := clusters.build(in)
	r.Clusters, r.Endpoints = cs, eds
	r.KeySources = jwtKeySources(in)
	r.Secrets, r.UnansweredSecrets = credentialSecrets(in, r)
	return r, append(problems, ps...)
}

// gatewayServersByPort collects the servers of the Gateways selecting the proxy by port. A
// port serves one class: plain HTTP, TLS or TCP (SEMANTICS.md §7.1): servers of another class
// than the port's oldest server are reported and skipped, as are servers of other protocols.
func gatewayServersByPort(in Inputs) (map[uint32][]gatewayServer, []model.Problem) {
	all := map[uint32][]gatewayServer{}
	var problems []model.Problem
	for _, gw := range in.Store.Gateways {
		sel := gw.Spec.GetSelector()
		if len(sel) == 0 || !model.SelectorMatches(sel, in.Proxy.Labels) {
			continue
		}
		for i, s := range gw.Spec.GetServers() {
			gs := gatewayServer{gw: gw, index: i, server: s}
			switch strings.ToUpper(s.GetPort().GetProtocol()) {
			case "HTTP", "HTTP2", "GRPC", "HTTPS", "TLS", "TCP":
				all[s.GetPort().GetNumber()] = append(all[s.GetPort().GetNumber()], gs)
			default:
				problems = append(problems, model.ProblemFor(&gw.Meta, model.SeverityError, gs.field()+".port.protocol",
					"protocol %q is not served (only HTTP, HTTP2, GRPC, HTTPS, TLS, TCP); server skipped", s.GetPort().GetProtocol()))
			}
		}
	}
	out := map[uint32][]gatewayServer{}
	for port, servers := range all {
		first := oldestFirst(servers)[0]
		for _, s := range servers {
			if s.class() == first.class() {
				out[port] = append(out[port], s)
				continue
			}
			problems = append(problems, model.ProblemFor(&s.gw.Meta, model.SeverityError, s.field()+".port.protocol",
				"port %d already serves %s for %s %s; one port cannot serve both %s and %s; server skipped",
				port, first.server.GetPort().GetProtocol(), first.ref(), first.field(), first.class(), s.class()))
		}
	}
	return out, problems
}

// isTLS: HTTPS and TLS servers own the TLS of their port (terminated or passed through).
func (s gatewayServer) isTLS() bool {
	p := strings.ToUpper(s.server.GetPort().GetProtocol())
	return p == "HTTPS" || p == "TLS"
}

// gatewayRouteConfig builds the route configuration of one gateway port: a virtual host per
// host name that a server on the port and a bound VirtualService have in common.
func gatewayRouteConfig(rc routeContext, port uint32, servers []gatewayServer) (*routev3.RouteConfiguration, []model.Problem) {
	vhosts := map[string]*routev3.VirtualHost{}
	var problems []model.Problem
	for _, s := range servers {
		rc.gateway = s.ref()
		for _, vs := range rc.in.Store.VirtualServices {
			if !containsGatewayOrDefault(vs, rc.gateway) {
				continue
			}
			hosts := serverVirtualServiceHosts(s, vs)
			if len(hosts) == 0 {
				continue
			}
			routes, ps := rc.httpRoutes(vs)
			problems = append(problems, ps...)
			for _, h := range hosts {
				vh := vhosts[h]
				if vh == nil {
					vh = &routev3.VirtualHost{Name: fmt.Sprintf("%s:%d", h, port), Domains: vhostDomains(h)}
					if s.server.GetTls().GetHttpsRedirect() {
						vh.RequireTls = routev3.VirtualHost_ALL
					}
					vhosts[h] = vh
				}
				vh.Routes = append(vh.Routes, routes...)
			}
		}
	}
	rcfg := &routev3.RouteConfiguration{Name: gatewayRouteName(port)}
	for _, h := range slicesSortedKeys(vhosts) {
		rcfg.VirtualHosts = append(rcfg.VirtualHosts, vhosts[h])
	}
	return rcfg, problems
}

// containsGatewayOrDefault: a VirtualService binds to the gateways it lists.
func containsGatewayOrDefault(vs *model.VirtualService, gw string) bool {
	return containsGateway(vs.Spec.GetGateways(), vs.Namespace, gw)
}

// hostsFor is the server's hosts a VirtualService of namespace vsNamespace may bind to: a
// "namespace/host" entry restricts its host to that namespace ("." the Gateway's own, "*" any).
func (s gatewayServer) hostsFor(vsNamespace string) []string {
	var out []string
	for _, sh := range s.server.GetHosts() {
		ns, host, ok := strings.Cut(sh, "/")
		if !ok {
			ns, host = "*", sh
		}
		if ns == "." {
			ns = s.gw.Namespace
		}
		if ns == "*" || ns == vsNamespace {
			out = append(out, host)
		}
	}
	return out
}

// serverVirtualServiceHosts returns the host names a server and a VirtualService share,
// honouring the server's "namespace/host" restriction on which VirtualServices may bind.
func serverVirtualServiceHosts(s gatewayServer, vs *model.VirtualService) []string {
	seen := map[string]bool{}
	var out []string
	for _, host := range s.hostsFor(vs.Namespace) {
		for _, vh := range vs.Spec.GetHosts() {
			if h, ok := hostIntersection(host, vh); ok && !seen[h] {
				seen[h] = true
				out = append(out, h)
			}
		}
	}
	return out
}

// hostIntersection returns the more specific of two host patterns when one covers the other
// ("*" covers all, "*.example.com" covers "a.example.com").
func hostIntersection(a, b string) (string, bool) {
	switch {
	case hostCovers(a, b):
		return b, true
	case hostCovers(b, a):
		return a, true
	}
	return "", false
}

func hostCovers(pattern, host string) bool {
	if pattern == "*" || strings.EqualFold(pattern, host) {
		return true
	}
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		return strings.HasSuffix(strings.ToLower(host), strings.ToLower(suffix))
	}
	return false
}

// vhostDomains: the host with and without a port (Envoy compares the whole :authority).
func vhostDomains(h string) []string {
	if strings.HasPrefix(h, "*") {
		return []string{h}
	}
	return []string{h, h + ":*"}
}

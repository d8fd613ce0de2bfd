package translate

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// portClass is what one gateway port serves. Istio merges the servers of a port only within
// one class (pilot/pkg/model/gateway.go MergeGateways): plain HTTP servers share a route
// configuration, TLS servers (HTTPS or TLS, terminated or passed through) are told apart by
// SNI, and an opaque TCP port has a single server.
type portClass int

const (
	classHTTP portClass = iota
	classTLS
	classTCP
)

func (s gatewayServer) class() portClass {
	switch strings.ToUpper(s.server.GetPort().GetProtocol()) {
	case "HTTPS", "TLS":
		return classTLS
	case "TCP":
		return classTCP
	}
	return classHTTP
}

func (c portClass) String() string {
	return [...]string{"plain HTTP", "TLS", "TCP"}[c]
}

// gatewayTCPListener builds the listener of an opaque TCP port: one chain, no TLS, proxying to
// the tcp route bound to the port's oldest server. Istio keeps only that server (a second TCP
// server of a port has no route name to merge under), so later ones are reported and skipped.
func gatewayTCPListener(rc routeContext, servers []gatewayServer, filters policyFilters) (*listenerv3.Listener, []model.Problem) {
	ordered := oldestFirst(servers)
	first := ordered[0]
	var problems []model.Problem
	for _, s := range ordered[1:] {
		problems = append(problems, model.ProblemFor(&s.gw.Meta, model.SeverityWarning, s.field(),
			"port %d already serves TCP for %s %s; a TCP port has one server; server skipped", rc.port, first.ref(), first.field()))
	}
	chain, ps := tcpRouteChain(rc, first, filters)
	problems = append(problems, ps...)
	if chain == nil {
		return nil, problems
	}
	return &listenerv3.Listener{
		Name:         listenerName("0.0.0.0", rc.port),
		Address:      socketAddress("0.0.0.0", rc.port),
		FilterChains: []*listenerv3.FilterChain{chain},
	}, problems
}

// tlsTerminatedTCPChain terminates TLS for a TLS server (SIMPLE, MUTUAL, OPTIONAL_MUTUAL or
// ISTIO_MUTUAL) and proxies the decrypted bytes with the server's tcp route, as Istio does
// (createGatewayTCPFilterChainOpts). The chain offers no ALPN: the gateway cannot know which
// protocol the backend speaks, and offering h2 (Istio offers h2 and http/1.1 here) would make
// h2 clients send HTTP/2 to a backend that may not understand it.
func tlsTerminatedTCPChain(rc routeContext, s gatewayServer, names []string, filters policyFilters) (*listenerv3.FilterChain, []model.Problem) {
	chain, problems := tcpRouteChain(rc, s, filters)
	if chain == nil {
		return nil, problems
	}
	ctx, ps := gatewayServerTLS(rc.in, s)
	problems = append(problems, ps...)
	withoutALPN(ctx.GetCommonTlsContext())
	chain.FilterChainMatch = sniMatch(names)
	chain.TransportSocket = tlsTransportSocket(ctx)
	return chain, problems
}

func withoutALPN(c *tlsv3.CommonTlsContext) {
	if c != nil {
		c.AlpnProtocols = nil
	}
}

// tcpRouteChain is the chain of a server that routes with VirtualService tcp routes: the
// network authorization filters, then tcp_proxy to the route's destinations. A server no
// route matches gets no chain (Istio: "listener missed network filter"), so its connections
// find nothing to serve them rather than some other destination.
func tcpRouteChain(rc routeContext, s gatewayServer, filters policyFilters) (*listenerv3.FilterChain, []model.Problem) {
	vs, ti := boundTCPRoute(rc, s)
	if vs == nil {
		return nil, []model.Problem{model.ProblemFor(&s.gw.Meta, model.SeverityWarning, s.field(),
			"no VirtualService tcp route bound to this gateway matches its hosts and port %d; nothing is served", rc.port)}
	}
	statPrefix := fmt.Sprintf("%s/%s/tcp[%d]", vs.Namespace, vs.Name, ti)
	proxy, problems := routeProxy(rc, vs, vs.Spec.GetTcp()[ti].GetRoute(), fmt.Sprintf("spec.tcp[%d]", ti), statPrefix)
	return &listenerv3.FilterChain{
		Name:    tcpServerChainName(rc.port, s),
		Filters: append(slices.Clone(filters.network()), proxy),
	}, problems
}

// tcpServerChainName names a TCP-routed chain after its server, as HTTPS chains are named
// (httpsRouteName): "<tls|tcp>.<port>.<server name, else its index>.<gateway>.<namespace>".
func tcpServerChainName(port uint32, s gatewayServer) string {
	key := s.server.GetName()
	if key == "" {
		key = strconv.Itoa(s.index)
	}
	return fmt.Sprintf("%s.%d.%s.%s.%s", strings.ToLower(s.server.GetPort().GetProtocol()), port, key, s.gw.Name, s.gw.Namespace)
}

// boundTCPRoute finds the tcp route serving a server as Istio does
// (buildGatewayNetworkFiltersFromTCPRoutes): among the VirtualServices bound to the gateway
// that share a host with the server, oldest first, the first tcp route with destinations whose
// match list is empty or has a match for this port and gateway. Other match attributes
// (sourceLabels, sourceNamespace, destinationSubnets) describe sidecar clients and are not
// consulted for gateways, as in Istio.
func boundTCPRoute(rc routeContext, s gatewayServer) (*model.VirtualService, int) {
	for _, vs := range oldestVirtualServicesFirst(rc.in.Store.VirtualServices) {
		if !containsGatewayOrDefault(vs, s.ref()) || len(serverVirtualServiceHosts(s, vs)) == 0 {
			continue
		}
		for i, tr := range vs.Spec.GetTcp() {
			if len(tr.GetRoute()) > 0 && l4Matches(tr.GetMatch(), rc.port, vs.Namespace, s.ref()) {
				return vs, i
			}
		}
	}
	return nil, 0
}

// l4Matches: match blocks are ORed; within one, the port and gateways must both fit.
func l4Matches(ms []*networkingv1alpha3.L4MatchAttributes, port uint32, vsNamespace, gw string) bool {
	for _, m := range ms {
		if (m.GetPort() == 0 || m.GetPort() == port) &&
			(len(m.GetGateways()) == 0 || containsGateway(m.GetGateways(), vsNamespace, gw)) {
			return true
		}
	}
	return len(ms) == 0
}

// oldestVirtualServicesFirst is Istio's order for VirtualServices bound to a gateway
// (creation time, then namespace and name); files have no creation time, so source order.
func oldestVirtualServicesFirst(vss []*model.VirtualService) []*model.VirtualService {
	out := slices.Clone(vss)
	slices.SortStableFunc(out, func(a, b *model.VirtualService) int {
		return cmp.Or(a.CreationTimestamp.Compare(b.CreationTimestamp), cmp.Compare(a.Order, b.Order),
			cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

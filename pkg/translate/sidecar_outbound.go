package translate

import (
	"fmt"
	"net/netip"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// servicePort is one port of a service the sidecar may call.
type servicePort struct {
	svc  *service
	port *networkingv1alpha3.ServicePort
}

// outboundResources builds what the sidecar needs to call the services visible from its
// namespace: a cluster per service port (and DestinationRule subset), a route configuration
// per HTTP port, and the listeners interception delivers the traffic to.
func outboundResources(in Inputs, reg *registry, clusters *clusterSet) (Resources, []model.Problem) {
	var r Resources
	var problems []model.Problem
	// CUSTOM providers called from this proxy's inbound chains need their clusters too.
	keys, ps := extAuthzClusterKeys(in, reg)
	problems = append(problems, ps...)
	for _, k := range keys {
		clusters.add(k)
	}
	byPort := map[uint32][]servicePort{}
	for _, svc := range reg.all {
		if !svc.visibleFrom(in.Proxy.Namespace) {
			continue
		}
		for _, p := range svc.Ports {
			byPort[p.GetNumber()] = append(byPort[p.GetNumber()], servicePort{svc, p})
			addServiceClusters(in, clusters, svc, p)
		}
	}
	for _, port := range slicesSortedKeys32(byPort) {
		rc := routeContext{in: in, reg: reg, clusters: clusters, gateway: meshGateway, port: port}
		l, routes, ps := outboundListener(rc, byPort[port])
		problems = append(problems, ps...)
		r.Listeners = append(r.Listeners, l)
		if routes != nil {
			r.Routes = append(r.Routes, routes)
		}
	}
	if in.Proxy.Interception != model.InterceptionExplicit {
		r.Listeners = append(r.Listeners, virtualOutboundListener())
		r.Clusters = append(r.Clusters, passthroughClusterResource())
	}
	cs, eds, ps := clusters.build(in)
	r.Clusters = append(r.Clusters, cs...)
	r.Endpoints = eds
	return r, append(problems, ps...)
}

// addServiceClusters adds the cluster of a service port and one per subset of its
// DestinationRule, as Istio does, so any route may pick a subset.
func addServiceClusters(in Inputs, clusters *clusterSet, svc *service, p *networkingv1alpha3.ServicePort) {
	clusters.add(clusterKey{svc: svc, port: p})
	if dr := destinationRuleFor(in, svc); dr != nil {
		for _, s := range dr.Spec.GetSubsets() {
			clusters.add(clusterKey{svc: svc, port: p, subset: s.GetName(), labels: s.GetLabels()})
		}
	}
}

// outboundListener builds the listener for one service port number. Transparent: 0.0.0.0_<port>,
// not bound (virtualOutbound hands connections over by original destination), TCP services
// matched by their addresses, HTTP by Host through the route configuration. Explicit: bound on
// <outbound address>:<port>, 127.0.0.1 unless the node names another.
func outboundListener(rc routeContext, sps []servicePort) (*listenerv3.Listener, *routev3.RouteConfiguration, []model.Problem) {
	var problems []model.Problem
	var httpSvcs []servicePort
	var chains []*listenerv3.FilterChain
	explicit := rc.in.Proxy.Interception == model.InterceptionExplicit
	for _, sp := range sps {
		if protocolOf(sp.port).isHTTP() {
			httpSvcs = append(httpSvcs, sp)
			continue
		}
		c, p := tcpOutboundChain(rc, sp, explicit, len(chains) > 0)
		if p != nil {
			problems = append(problems, *p)
		}
		if c != nil {
			chains = append(chains, c)
		}
	}
	var routes *routev3.RouteConfiguration
	statPrefix := "outbound_" + listenerName("0.0.0.0", rc.port)
	switch {
	case len(httpSvcs) > 0:
		var ps []model.Problem
		routes, ps = outboundRouteConfig(rc, httpSvcs)
		problems = append(problems, ps...)
		chains = append(chains, &listenerv3.FilterChain{Filters: []*listenerv3.Filter{httpConnectionManager(hcmOptions{
			statPrefix: statPrefix, rdsName: routes.GetName(), filters: routerOnly(),
		})}})
	case !explicit:
		// Connections to other addresses on this port go where they were going.
		chains = append(chains, &listenerv3.FilterChain{Filters: []*listenerv3.Filter{tcpProxy(statPrefix, passthroughCluster)}})
	}
	l := &listenerv3.Listener{Name: listenerName("0.0.0.0", rc.port), Address: socketAddress("0.0.0.0", rc.port), FilterChains: chains}
	if matchesSNI(chains) {
		l.ListenerFilters = []*listenerv3.ListenerFilter{tlsInspectorFilter()}
	}
	if explicit {
		addr := rc.in.Proxy.OutboundBindAddress()
		l.Name, l.Address = listenerName(addr, rc.port), socketAddress(addr, rc.port)
	} else {
		l.BindToPort = wrapperspb.Bool(false)
	}
	return l, routes, problems
}

// tcpOutboundChain proxies a TCP service port. Transparent interception can only tell TCP
// services apart by destination address, so a service without addresses cannot be matched;
// explicit mode has one listener per port, so only the first TCP service of a port is served.
func tcpOutboundChain(rc routeContext, sp servicePort, explicit, taken bool) (*listenerv3.FilterChain, *model.Problem) {
	cluster := outboundClusterName(sp.port.GetNumber(), "", sp.svc.Host)
	chain := &listenerv3.FilterChain{Filters: []*listenerv3.Filter{tcpProxy("outbound|"+fmt.Sprint(sp.port.GetNumber())+"||"+sp.svc.Host, cluster)}}
	if explicit {
		if taken {
			p := model.ProblemFor(sp.svc.Origin, model.SeverityWarning, "spec.ports",
				"port %d of %s: another TCP service already has %s:%d in explicit mode; not reachable",
				sp.port.GetNumber(), sp.svc.Host, rc.in.Proxy.OutboundBindAddress(), sp.port.GetNumber())
			return nil, &p
		}
		return chain, nil
	}
	ranges := addressRanges(sp.svc.Addresses)
	if protocolOf(sp.port) == protocolTLS && len(ranges) == 0 {
		// TLS clients name the service in SNI; the listener's tls_inspector reads it.
		chain.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: []string{sp.svc.Host}}
		return chain, nil
	}
	if len(ranges) == 0 {
		p := model.ProblemFor(sp.svc.Origin, model.SeverityWarning, "spec.addresses",
			"TCP port %d of %s cannot be intercepted transparently without addresses; its traffic passes through", sp.port.GetNumber(), sp.svc.Host)
		return nil, &p
	}
	chain.FilterChainMatch = &listenerv3.FilterChainMatch{PrefixRanges: ranges}
	return chain, nil
}

// addressRanges converts ServiceEntry addresses (an IP or a CIDR) to CIDR ranges; addresses
// that parse as neither were reported by validation and are left out.
func addressRanges(addrs []string) []*corev3.CidrRange {
	var out []*corev3.CidrRange
	for _, a := range addrs {
		prefix, err := netip.ParsePrefix(a)
		if err != nil {
			ip, err := netip.ParseAddr(a)
			if err != nil {
				continue
			}
			prefix = netip.PrefixFrom(ip, ip.BitLen())
		}
		out = append(out, &corev3.CidrRange{
			AddressPrefix: prefix.Masked().Addr().String(),
			PrefixLen:     wrapperspb.UInt32(uint32(prefix.Bits())),
		})
	}
	return out
}

// outboundRouteConfig: one virtual host per HTTP service on the port, with the routes of the
// VirtualService for its host (bound to "mesh"), else a default route to the service.
func outboundRouteConfig(rc routeContext, sps []servicePort) (*routev3.RouteConfiguration, []model.Problem) {
	var problems []model.Problem
	rcfg := &routev3.RouteConfiguration{Name: fmt.Sprint(rc.port)}
	usedDomains := map[string]bool{}
	for _, sp := range sps {
		vh := &routev3.VirtualHost{Name: fmt.Sprintf("%s:%d", sp.svc.Host, rc.port)}
		for _, d := range serviceDomains(sp.svc, rc.port, rc.in.Proxy.Namespace) {
			if !usedDomains[d] {
				usedDomains[d] = true
				vh.Domains = append(vh.Domains, d)
			}
		}
		if len(vh.Domains) == 0 {
			continue
		}
		if vs := meshVirtualService(rc.in, sp.svc); vs != nil {
			routes, ps := rc.httpRoutes(vs)
			problems = append(problems, ps...)
			vh.Routes = routes
		} else {
			name := rc.clusters.add(clusterKey{svc: sp.svc, port: sp.port})
			vh.Routes = []*routev3.Route{{
				Name:  "default",
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{
					ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: name},
					Timeout:          zeroDuration(),
					RetryPolicy:      retryPolicy(nil),
				}},
			}}
		}
		rcfg.VirtualHosts = append(rcfg.VirtualHosts, vh)
	}
	return rcfg, problems
}

// serviceDomains are the names a caller may use for a service: its host and, for Kubernetes
// hosts, the short forms a resolver search path accepts, each with and without the port.
func serviceDomains(svc *service, port uint32, callerNS string) []string {
	names := []string{svc.Host}
	if name, rest, ok := strings.Cut(svc.Host, "."); ok && strings.HasSuffix(rest, ".svc.cluster.local") {
		ns := strings.TrimSuffix(rest, ".svc.cluster.local")
		names = append(names, name+"."+ns, name+"."+ns+".svc")
		if ns == callerNS {
			names = append(names, name)
		}
	}
	var out []string
	for _, n := range names {
		out = append(out, n, fmt.Sprintf("%s:%d", n, port))
	}
	return out
}

// meshVirtualService finds the VirtualService bound to "mesh" (explicitly or by default)
// whose hosts cover the service's host; the first by (namespace, name) wins.
func meshVirtualService(in Inputs, svc *service) *model.VirtualService {
	for _, vs := range in.Store.VirtualServices {
		gws := vs.Spec.GetGateways()
		if len(gws) > 0 && !containsGateway(gws, vs.Namespace, meshGateway) {
			continue
		}
		for _, h := range vs.Spec.GetHosts() {
			if !strings.Contains(h, ".") && h != "*" {
				h = h + "." + vs.Namespace + ".svc.cluster.local"
			}
			if hostCovers(h, svc.Host) {
				return vs
			}
		}
	}
	return nil
}

func routerOnly() []*hcmv3.HttpFilter {
	f, _ := routerFilters(Inputs{})
	return f
}

// virtualOutboundListener receives all intercepted outbound traffic (istio-iptables sends it
// to 15001) and hands each connection to the listener of its original destination port;
// connections no listener claims pass through to where they were going.
func virtualOutboundListener() *listenerv3.Listener {
	return &listenerv3.Listener{
		Name:           virtualOutbound,
		Address:        socketAddress("0.0.0.0", virtualOutboundPort),
		UseOriginalDst: wrapperspb.Bool(true),
		FilterChains: []*listenerv3.FilterChain{{
			Name:    passthroughCluster,
			Filters: []*listenerv3.Filter{tcpProxy(passthroughCluster, passthroughCluster)},
		}},
	}
}

func matchesSNI(chains []*listenerv3.FilterChain) bool {
	for _, c := range chains {
		if len(c.GetFilterChainMatch().GetServerNames()) > 0 {
			return true
		}
	}
	return false
}

func tlsInspectorFilter() *listenerv3.ListenerFilter {
	return &listenerv3.ListenerFilter{
		Name:       "envoy.filters.listener.tls_inspector",
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: mustAny(&tlsinspectorv3.TlsInspector{})},
	}
}

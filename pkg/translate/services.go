package translate

import (
	"cmp"
	"slices"
	"strings"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// service is one host of a ServiceEntry with its ports and endpoints: the unit routes and
// clusters are built from. The Kubernetes source will produce the same shape from Services.
type service struct {
	Host       string
	Namespace  string
	Ports      []*networkingv1alpha3.ServicePort
	Resolution networkingv1alpha3.ServiceEntry_Resolution
	Endpoints  []endpoint
	// Selector is the workload selector of the ServiceEntry: the workloads that implement it.
	Selector map[string]string
	// Addresses are the ServiceEntry's virtual IPs or CIDRs.
	Addresses []string
	ExportTo  []string
	Origin    *model.Meta
}

// endpoint is one instance of a service: an inline ServiceEntry endpoint or a selected
// WorkloadEntry.
type endpoint struct {
	Address        string
	Ports          map[string]uint32 // port name -> target port
	Labels         map[string]string
	ServiceAccount string
	Weight         uint32
}

// registry is every service of the mesh, indexed by host.
type registry struct {
	byHost map[string][]*service // a host may be declared in several namespaces
	all    []*service
}

// registryKey is the store-derived value of the registry (model.Store.Derived).
type registryKey struct{}

// registryOf returns the store's registry, built once per store and shared, read-only, by
// every proxy group's translation of it.
func registryOf(store *model.Store) *registry {
	return store.Derived(registryKey{}, func() any { return newRegistry(store) }).(*registry)
}

func newRegistry(store *model.Store) *registry {
	r := &registry{byHost: map[string][]*service{}}
	// A workloadSelector selects WorkloadEntries of its own namespace only.
	wesByNamespace := map[string][]*model.WorkloadEntry{}
	for _, we := range store.WorkloadEntries {
		wesByNamespace[we.Namespace] = append(wesByNamespace[we.Namespace], we)
	}
	for _, se := range store.ServiceEntries {
		eps := serviceEntryEndpoints(se, wesByNamespace[se.Namespace])
		for _, h := range se.Spec.GetHosts() {
			s := &service{
				Host: h, Namespace: se.Namespace, Ports: se.Spec.GetPorts(),
				Resolution: se.Spec.GetResolution(), Endpoints: eps,
				Selector:  se.Spec.GetWorkloadSelector().GetLabels(),
				Addresses: se.Spec.GetAddresses(), ExportTo: se.Spec.GetExportTo(), Origin: &se.Meta,
			}
			r.byHost[h] = append(r.byHost[h], s)
			r.all = append(r.all, s)
		}
	}
	slices.SortStableFunc(r.all, func(a, b *service) int {
		return cmp.Or(cmp.Compare(a.Host, b.Host), cmp.Compare(a.Namespace, b.Namespace))
	})
	return r
}

// serviceEntryEndpoints returns the inline endpoints, or those of wes (the WorkloadEntries of
// the ServiceEntry's namespace) that its workloadSelector selects.
func serviceEntryEndpoints(se *model.ServiceEntry, wes []*model.WorkloadEntry) []endpoint {
	var out []endpoint
	for _, e := range se.Spec.GetEndpoints() {
		out = append(out, endpointOf(e))
	}
	if sel := se.Spec.GetWorkloadSelector().GetLabels(); len(sel) > 0 {
		for _, we := range wes {
			if model.SelectorMatches(sel, we.Spec.GetLabels()) {
				out = append(out, endpointOf(we.Spec))
			}
		}
	}
	return out
}

func endpointOf(e *networkingv1alpha3.WorkloadEntry) endpoint {
	return endpoint{
		Address: e.GetAddress(), Ports: e.GetPorts(), Labels: e.GetLabels(),
		ServiceAccount: e.GetServiceAccount(), Weight: e.GetWeight(),
	}
}

// lookup resolves a destination host as written in a VirtualService in namespace ns: an exact
// host first, then a Kubernetes short name ("reviews" -> "reviews.<ns>.svc.cluster.local").
// Among several declarations of one host, the one in ns wins, else the first by namespace.
func (r *registry) lookup(host, ns string) *service {
	candidates := r.byHost[host]
	if len(candidates) == 0 && !strings.Contains(host, ".") {
		candidates = r.byHost[host+"."+ns+".svc.cluster.local"]
	}
	for _, s := range candidates {
		if s.Namespace == ns {
			return s
		}
	}
	for _, s := range candidates {
		if s.visibleFrom(ns) {
			return s
		}
	}
	return nil
}

// visibleFrom applies exportTo: empty or "*" is every namespace, "." the service's own.
func (s *service) visibleFrom(ns string) bool {
	if len(s.ExportTo) == 0 {
		return true
	}
	for _, e := range s.ExportTo {
		if e == "*" || e == ns || (e == "." && s.Namespace == ns) {
			return true
		}
	}
	return false
}

// port finds a service port by number; number 0 means "the only port".
func (s *service) port(number uint32) *networkingv1alpha3.ServicePort {
	if number == 0 && len(s.Ports) == 1 {
		return s.Ports[0]
	}
	for _, p := range s.Ports {
		if p.GetNumber() == number {
			return p
		}
	}
	return nil
}

// targetPort is the workload port an endpoint receives traffic for a service port on.
func (e endpoint) targetPort(p *networkingv1alpha3.ServicePort) uint32 {
	if tp, ok := e.Ports[p.GetName()]; ok && tp != 0 {
		return tp
	}
	if p.GetTargetPort() != 0 {
		return p.GetTargetPort()
	}
	return p.GetNumber()
}

// protocolOf classifies a service port the way Istio does: the declared protocol, else the
// port name's prefix ("http-web", "grpc"), else TCP.
func protocolOf(p *networkingv1alpha3.ServicePort) protocol {
	name := strings.ToLower(p.GetProtocol())
	if name == "" {
		name, _, _ = strings.Cut(strings.ToLower(p.GetName()), "-")
	}
	switch name {
	case "http", "http-web":
		return protocolHTTP
	case "http2", "grpc", "grpc-web":
		return protocolHTTP2
	case "https", "tls":
		return protocolTLS
	default:
		return protocolTCP
	}
}

type protocol int

const (
	protocolTCP protocol = iota
	protocolHTTP
	protocolHTTP2
	protocolTLS
)

func (p protocol) isHTTP() bool { return p == protocolHTTP || p == protocolHTTP2 }

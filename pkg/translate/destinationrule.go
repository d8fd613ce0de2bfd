package translate

import (
	"strings"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// destinationRuleFor picks the DestinationRule for a host as seen from a proxy, in Istio's
// order: the proxy's namespace, then the service's namespace, then the root namespace; within
// one namespace the most specific host wins (exact, then the longest wildcard such as
// "*.foo.svc.cluster.local" before "*.local"). A rule with a workloadSelector applies only to
// the proxies it selects.
func destinationRuleFor(in Inputs, svc *service) *model.DestinationRule {
	var best *model.DestinationRule
	bestRank, bestSpec := 0, 0
	for _, dr := range in.Store.DestinationRules {
		spec, ok := drHostSpecificity(dr, svc)
		if !ok {
			continue
		}
		if sel := dr.Spec.GetWorkloadSelector().GetMatchLabels(); len(sel) > 0 &&
			(dr.Namespace != in.Proxy.Namespace || !model.SelectorMatches(sel, in.Proxy.Labels)) {
			continue
		}
		r := drNamespaceRank(in, svc, dr.Namespace)
		if r < 0 {
			continue
		}
		if best == nil || r < bestRank || r == bestRank && spec > bestSpec {
			best, bestRank, bestSpec = dr, r, spec
		}
	}
	return best
}

// drNamespaceRank orders the namespaces a DestinationRule may come from; -1 means it does not
// apply to this proxy.
func drNamespaceRank(in Inputs, svc *service, ns string) int {
	switch ns {
	case in.Proxy.Namespace:
		return 0
	case svc.Namespace:
		return 1
	case in.Store.Mesh.RootNamespace:
		return 2
	}
	return -1
}

// drHostSpecificity reports whether a DestinationRule's host covers the service and how
// specifically: an exact host (or the service's short name in its namespace) beats any
// wildcard, a longer wildcard suffix beats a shorter one.
func drHostSpecificity(dr *model.DestinationRule, svc *service) (int, bool) {
	h := dr.Spec.GetHost()
	switch {
	case h == svc.Host || h == shortName(svc.Host) && dr.Namespace == svc.Namespace:
		return 1 << 20, true
	case strings.HasPrefix(h, "*") && hostCovers(h, svc.Host):
		return len(h), true
	}
	return 0, false
}

// subsetLabels returns the labels of a named subset of the DestinationRule for svc.
func subsetLabels(in Inputs, svc *service, subset string) (map[string]string, bool) {
	dr := destinationRuleFor(in, svc)
	if dr == nil {
		return nil, false
	}
	for _, s := range dr.Spec.GetSubsets() {
		if s.GetName() == subset {
			return s.GetLabels(), true
		}
	}
	return nil, false
}

// shortName is the first label of a Kubernetes service host ("reviews" of
// "reviews.ns.svc.cluster.local"), which DestinationRules may use as host in the same namespace.
func shortName(host string) string {
	for i := 0; i < len(host); i++ {
		if host[i] == '.' {
			return host[:i]
		}
	}
	return host
}

package translate

import (
	"github.com/plainenvoy/controlplane/pkg/model"
)

// destinationRuleFor picks the DestinationRule for a host as seen from a proxy, in Istio's
// order: the proxy's namespace, then the service's namespace, then the root namespace. A rule
// with a workloadSelector applies only to the proxies it selects.
func destinationRuleFor(in Inputs, svc *service) *model.DestinationRule {
	var best *model.DestinationRule
	rank := func(ns string) int {
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
	for _, dr := range in.Store.DestinationRules {
		if dr.Spec.GetHost() != svc.Host && !(dr.Spec.GetHost() == shortName(svc.Host) && dr.Namespace == svc.Namespace) {
			continue
		}
		if sel := dr.Spec.GetWorkloadSelector().GetMatchLabels(); len(sel) > 0 &&
			(dr.Namespace != in.Proxy.Namespace || !model.SelectorMatches(sel, in.Proxy.Labels)) {
			continue
		}
		r := rank(dr.Namespace)
		if r < 0 {
			continue
		}
		if best == nil || r < rank(best.Namespace) {
			best = dr
		}
	}
	return best
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

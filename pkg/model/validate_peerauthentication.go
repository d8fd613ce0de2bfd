package model

import (
	"maps"
	"slices"
)

// validatePeerAuthentication applies Istio's checks (SEMANTICS.md §5.1) and warns about a
// selector in the root namespace, which sidecars ignore.
func validatePeerAuthentication(pa *PeerAuthentication, mesh Mesh) []Problem {
	ps := &problems{meta: &pa.Meta}
	spec := pa.Spec
	labels := spec.GetSelector().GetMatchLabels()
	if len(labels) == 0 && len(spec.GetPortLevelMtls()) != 0 {
		ps.errorf("spec.portLevelMtls", "mesh/namespace peer authentication cannot have port level mTLS")
	}
	if spec.GetPortLevelMtls() != nil && len(spec.GetPortLevelMtls()) == 0 {
		ps.errorf("spec.portLevelMtls", "port level mTLS, if defined, must have at least one element")
	}
	for _, port := range slices.Sorted(maps.Keys(spec.GetPortLevelMtls())) {
		if port == 0 || port > 65535 {
			ps.errorf(fieldPath("spec.portLevelMtls", int(port)), "port must be in range 1..65535")
		}
	}
	checkSelectorLabels(ps, "spec.selector.matchLabels", labels)
	if len(labels) != 0 && pa.Namespace == mesh.WithDefaults().RootNamespace {
		ps.warnf("spec.selector", "a peer authentication with a selector in the root namespace is ignored; "+
			"move it to the workload's namespace or remove the selector")
	}
	return ps.list
}

// checkSelectorLabels applies Istio's workload selector checks (validateWorkloadSelector).
func checkSelectorLabels(ps *problems, field string, labels map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		switch {
		case k == "":
			ps.errorf(field, "empty key is not supported in selector")
		case k == "*" || labels[k] == "*":
			ps.errorf(fieldPath(field, k), "wildcard is not supported in selector")
		}
	}
}

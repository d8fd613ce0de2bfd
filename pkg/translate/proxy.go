package translate

import (
	"cmp"
	"slices"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// Proxy builds the whole configuration of one proxy group. It always returns a valid (possibly
// empty) configuration; problems say what could not be translated as written and how it failed
// closed.
func Proxy(in Inputs) (Resources, []model.Problem) {
	if in.Store == nil {
		in.Store = model.NewStore(model.Mesh{}, nil)
	}
	var r Resources
	var problems []model.Problem
	switch in.Proxy.Role {
	case model.RoleGateway:
		r, problems = gatewayResources(in)
	case model.RoleSidecar:
		r, problems = sidecarResources(in)
	}
	if c := in.Proxy.WorkloadSDSCluster; c != "" {
		useExternalWorkloadSDS(&r, c)
	}
	r.sort()
	return r, model.SortProblems(problems)
}

func (r *Resources) sort() {
	sortNamed(r.Listeners)
	sortNamed(r.Routes)
	sortNamed(r.Clusters)
	sortNamed(r.Secrets)
	slices.SortStableFunc(r.Endpoints, func(a, b *endpointv3.ClusterLoadAssignment) int {
		return cmp.Compare(a.GetClusterName(), b.GetClusterName())
	})
	slices.Sort(r.KeySources)
	r.KeySources = slices.Compact(r.KeySources)
}

type named interface{ GetName() string }

func sortNamed[T named](xs []T) {
	slices.SortStableFunc(xs, func(a, b T) int { return cmp.Compare(a.GetName(), b.GetName()) })
}

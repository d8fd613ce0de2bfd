package model

import (
	"google.golang.org/protobuf/proto"
	typev1beta1 "istio.io/api/type/v1beta1"
)

// GatewayNameLabel marks a Kubernetes Gateway API gateway's proxy; policies reach such a proxy
// through targetRefs naming that Gateway.
const GatewayNameLabel = "gateway.networking.k8s.io/gateway-name"

const gatewayAPIGroup = "gateway.networking.k8s.io"

type selectorSpec interface {
	GetSelector() *typev1beta1.WorkloadSelector
}

type targetRefSpec interface {
	proto.Message
	selectorSpec
	GetTargetRef() *typev1beta1.PolicyTargetReference
	GetTargetRefs() []*typev1beta1.PolicyTargetReference
}

// SelectorMatches reports whether a workload selector selects labels: a nil or empty selector
// selects everything, otherwise every matchLabels pair must be present.
func SelectorMatches(sel map[string]string, labels map[string]string) bool {
	for k, v := range sel {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// PoliciesFor returns the RequestAuthentication or AuthorizationPolicy objects that apply to a
// proxy (SEMANTICS.md §1.1): policies in the proxy's namespace and in the root namespace; a
// policy with targetRef(s) applies only to the Gateway API gateway it names, in its own
// namespace; otherwise its selector must match the proxy's labels (empty = every workload).
// The result keeps the store's (namespace, name) order.
func PoliciesFor[T targetRefSpec](objs []*Config[T], p Proxy, mesh Mesh) []*Config[T] {
	gatewayName, isGatewayAPI := p.Labels[GatewayNameLabel]
	var out []*Config[T]
	for _, o := range objs {
		if o.Namespace != p.Namespace && o.Namespace != mesh.RootNamespace {
			continue
		}
		refs := targetRefs(o.Spec)
		switch {
		case len(refs) > 0:
			if isGatewayAPI && o.Namespace == p.Namespace && refsGateway(refs, gatewayName, p.Namespace) {
				out = append(out, o)
			}
		case SelectorMatches(o.Spec.GetSelector().GetMatchLabels(), p.Labels):
			out = append(out, o)
		}
	}
	return out
}

func targetRefs(s targetRefSpec) []*typev1beta1.PolicyTargetReference {
	refs := s.GetTargetRefs()
	if r := s.GetTargetRef(); r != nil {
		refs = append([]*typev1beta1.PolicyTargetReference{r}, refs...)
	}
	return refs
}

func refsGateway(refs []*typev1beta1.PolicyTargetReference, name, namespace string) bool {
	for _, r := range refs {
		if r.GetGroup() == gatewayAPIGroup && r.GetKind() == "Gateway" && r.GetName() == name &&
			(r.GetNamespace() == "" || r.GetNamespace() == namespace) {
			return true
		}
	}
	return false
}

// PeerAuthenticationsFor splits the PeerAuthentications that can apply to a proxy by level:
// mesh (selector-less, root namespace), namespace (selector-less, proxy namespace) and
// workload (selector matching, proxy namespace). Root-namespace policies with a selector are
// ignored as Istio's sidecar path ignores them (SEMANTICS.md §5.1). Each list keeps the store's
// order; precedence (oldest wins) is the caller's business.
func PeerAuthenticationsFor(objs []*PeerAuthentication, p Proxy, mesh Mesh) (meshLevel, nsLevel, workload []*PeerAuthentication) {
	for _, o := range objs {
		sel := o.Spec.GetSelector().GetMatchLabels()
		switch {
		case o.Namespace == mesh.RootNamespace && len(sel) == 0:
			meshLevel = append(meshLevel, o)
		case o.Namespace != p.Namespace:
		case len(sel) == 0:
			nsLevel = append(nsLevel, o)
		case SelectorMatches(sel, p.Labels):
			workload = append(workload, o)
		}
	}
	return meshLevel, nsLevel, workload
}

package translate

import (
	"cmp"
	"slices"

	securityv1beta1 "istio.io/api/security/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// mtlsMode is a PeerAuthentication mode; UNSET never survives resolution.
type mtlsMode = securityv1beta1.PeerAuthentication_MutualTLS_Mode

const (
	mtlsUnset      = securityv1beta1.PeerAuthentication_MutualTLS_UNSET
	mtlsDisable    = securityv1beta1.PeerAuthentication_MutualTLS_DISABLE
	mtlsPermissive = securityv1beta1.PeerAuthentication_MutualTLS_PERMISSIVE
	mtlsStrict     = securityv1beta1.PeerAuthentication_MutualTLS_STRICT
)

// peerAuthn is the resolved PeerAuthentication of one workload (SEMANTICS.md §5.1): the mode
// of the workload level (already inheriting namespace and mesh) and its port overrides.
type peerAuthn struct {
	mode  mtlsMode
	ports map[uint32]mtlsMode // workload (target) port -> mode; UNSET entries are dropped
}

// forPort is the effective mode of a workload port: portLevelMtls[port], else the workload's.
func (p peerAuthn) forPort(port uint32) mtlsMode {
	if m, ok := p.ports[port]; ok {
		return m
	}
	return p.mode
}

// peerAuthnFor resolves the PeerAuthentication of a workload (namespace ns, labels): mesh
// (root namespace, no selector; UNSET or none = PERMISSIVE) → namespace → workload → port.
// At each level the oldest policy wins (creationTimestamp, then source order, then
// namespace/name: SEMANTICS.md D9) and the others are reported as ignored.
func peerAuthnFor(in Inputs, ns string, labels map[string]string) (peerAuthn, []model.Problem) {
	var problems []model.Problem
	mesh := in.Store.Mesh
	w := model.Proxy{Namespace: ns, Labels: labels}
	meshLevel, nsLevel, workload := model.PeerAuthenticationsFor(in.Store.PeerAuthentications, w, mesh)
	problems = append(problems, rootSelectorIgnored(in, w)...)

	res := peerAuthn{mode: mtlsPermissive}
	for _, level := range [][]*model.PeerAuthentication{meshLevel, nsLevel, workload} {
		pa, ps := oldestPeerAuthn(level)
		problems = append(problems, ps...)
		if pa == nil {
			continue
		}
		if m := pa.Spec.GetMtls().GetMode(); m != mtlsUnset {
			res.mode = m
		}
		if len(pa.Spec.GetSelector().GetMatchLabels()) > 0 {
			res.ports = portModes(pa)
		}
	}
	return res, problems
}

// oldestPeerAuthn picks the policy Istio keeps among several at one level.
func oldestPeerAuthn(pas []*model.PeerAuthentication) (*model.PeerAuthentication, []model.Problem) {
	if len(pas) == 0 {
		return nil, nil
	}
	sorted := slices.Clone(pas)
	slices.SortStableFunc(sorted, func(a, b *model.PeerAuthentication) int {
		return cmp.Or(a.CreationTimestamp.Compare(b.CreationTimestamp), cmp.Compare(a.Order, b.Order),
			cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	var problems []model.Problem
	for _, pa := range sorted[1:] {
		problems = append(problems, model.ProblemFor(&pa.Meta, model.SeverityWarning, "",
			"ignored: %s is older and applies to the same workloads at this level (the oldest wins)", sorted[0].Key()))
	}
	return sorted[0], problems
}

// portModes keeps the set port overrides; an UNSET port mode inherits the workload's.
func portModes(pa *model.PeerAuthentication) map[uint32]mtlsMode {
	out := map[uint32]mtlsMode{}
	for port, m := range pa.Spec.GetPortLevelMtls() {
		if m.GetMode() != mtlsUnset {
			out[port] = m.GetMode()
		}
	}
	return out
}

// rootSelectorIgnored reports the root-namespace policies with a selector that would select
// the workload: Istio's sidecar path drops them, and so do we. The wording is validation's,
// so the two reports of one policy collapse into one.
func rootSelectorIgnored(in Inputs, w model.Proxy) []model.Problem {
	var problems []model.Problem
	for _, pa := range in.Store.PeerAuthentications {
		sel := pa.Spec.GetSelector().GetMatchLabels()
		if pa.Namespace != in.Store.Mesh.RootNamespace || w.Namespace == pa.Namespace || len(sel) == 0 ||
			!model.SelectorMatches(sel, w.Labels) {
			continue
		}
		problems = append(problems, model.ProblemFor(&pa.Meta, model.SeverityWarning, "spec.selector",
			"a peer authentication with a selector in the root namespace is ignored; "+
				"move it to the workload's namespace or remove the selector"))
	}
	return problems
}

// namespaceMTLS is the mode of a namespace without workload policies (mesh → namespace):
// what automatic mTLS consults for a destination service (SEMANTICS.md §6.4).
func namespaceMTLS(in Inputs, ns string) mtlsMode {
	pa, _ := peerAuthnFor(in, ns, nil)
	return pa.mode
}

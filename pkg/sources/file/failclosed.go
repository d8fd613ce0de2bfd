package file

import (
	"go.yaml.in/yaml/v3"
	securityv1beta1 "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// StandInAnnotation marks an object the decoder made up in place of a policy it could not
// decode, so that leaving the policy out does not widen access (DESIGN.md "Failure and
// safety rules"). It is only used when the file has no last good content to keep.
const StandInAnnotation = "controlplane.plainenvoy.dev/fail-closed-stand-in"

// standIn returns a fail-closed replacement for an undecodable security policy, scoped by
// whatever selector can still be read (none: the whole namespace, the wider denial):
//   - AuthorizationPolicy ALLOW (or no action): an ALLOW policy without rules, which matches
//     nothing, so the workloads it selected are denied unless another ALLOW policy matches;
//   - DENY, CUSTOM or an unreadable action: a DENY policy matching every request;
//   - AUDIT: nothing (auditing never changes a decision);
//   - PeerAuthentication: STRICT, so the workloads never accept plaintext by mistake.
//
// Other kinds return nil: leaving them out cannot widen access.
func standIn(meta model.Meta, spec *yaml.Node) model.Object {
	meta.Annotations = map[string]string{StandInAnnotation: "true"}
	sel := lenientSelector(spec)
	switch meta.Kind {
	case model.KindAuthorizationPolicy:
		ap := &securityv1beta1.AuthorizationPolicy{Selector: sel}
		switch lenientScalar(spec, "action") {
		case "", "ALLOW":
			ap.Action = securityv1beta1.AuthorizationPolicy_ALLOW
		case "AUDIT":
			return nil
		default:
			ap.Action = securityv1beta1.AuthorizationPolicy_DENY
			ap.Rules = []*securityv1beta1.Rule{{}}
		}
		return &model.AuthorizationPolicy{Meta: meta, Spec: ap}
	case model.KindPeerAuthentication:
		return &model.PeerAuthentication{Meta: meta, Spec: &securityv1beta1.PeerAuthentication{
			Selector: sel,
			Mtls:     &securityv1beta1.PeerAuthentication_MutualTLS{Mode: securityv1beta1.PeerAuthentication_MutualTLS_STRICT},
		}}
	}
	return nil
}

// lenientSelector reads spec.selector.matchLabels if it is a map of scalars, else nil.
func lenientSelector(spec *yaml.Node) *typev1beta1.WorkloadSelector {
	labels := mappingValue(mappingValue(spec, "selector"), "matchLabels")
	if labels == nil || labels.Kind != yaml.MappingNode || len(labels.Content) == 0 {
		return nil
	}
	m := map[string]string{}
	for i := 0; i+1 < len(labels.Content); i += 2 {
		k, v := labels.Content[i], labels.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
			return nil
		}
		m[k.Value] = v.Value
	}
	return &typev1beta1.WorkloadSelector{MatchLabels: m}
}

func lenientScalar(n *yaml.Node, key string) string {
	v := mappingValue(n, key)
	if v == nil || v.Kind != yaml.ScalarNode {
		if v != nil {
			return "?"
		}
		return ""
	}
	return v.Value
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// isEnvoyDocument recognises an Envoy node or bootstrap kept beside the policies (as the
// examples do with node.yaml and bootstrap files): no apiVersion or kind, and the top-level
// keys of a bootstrap ("node", "static_resources", ...) or of a node ("id" with "metadata").
func isEnvoyDocument(n *yaml.Node) bool {
	if n.Kind != yaml.MappingNode || mappingValue(n, "apiVersion") != nil || mappingValue(n, "kind") != nil {
		return false
	}
	for _, k := range []string{"node", "static_resources", "dynamic_resources", "staticResources", "dynamicResources"} {
		if mappingValue(n, k) != nil {
			return true
		}
	}
	return mappingValue(n, "id") != nil && mappingValue(n, "metadata") != nil
}

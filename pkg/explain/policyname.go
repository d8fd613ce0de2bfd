package explain

import (
	"fmt"
	"regexp"
	"strconv"
)

// PolicyRef is the AuthorizationPolicy rule an Envoy RBAC policy was generated from.
type PolicyRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Rule      int    `json:"rule"`
	// Provider is the CUSTOM provider for a CUSTOM rule; BadCustom marks a CUSTOM rule that
	// the control plane turned into a DENY rule (unknown provider, untranslatable part).
	Provider  string `json:"provider,omitempty"`
	BadCustom bool   `json:"badCustom,omitempty"`
}

// String reads as "AuthorizationPolicy foo/deny-get rules[0]".
func (r PolicyRef) String() string {
	s := fmt.Sprintf("AuthorizationPolicy %s/%s rules[%d]", r.Namespace, r.Name, r.Rule)
	if r.Provider != "" {
		s += " (CUSTOM " + r.Provider + ")"
	}
	return s
}

// policyName is the control plane's (and Istio's) RBAC policy naming scheme:
//
//	ns[<ns>]-policy[<name>]-rule[<i>]
//	istio-ext-authz-<provider>-ns[<ns>]-policy[<name>]-rule[<i>]
//	<either>-deny-due-to-bad-CUSTOM-action
//
// Kubernetes names cannot contain brackets, so the brackets delimit them unambiguously.
var policyName = regexp.MustCompile(`^(?:istio-ext-authz-(.+?)-)?ns\[([^\]]*)\]-policy\[([^\]]*)\]-rule\[(\d+)\](-deny-due-to-bad-CUSTOM-action)?$`)

// ParsePolicyName maps an RBAC policy name back to its AuthorizationPolicy rule; ok is false
// for names of another scheme (hand-written Envoy configuration).
func ParsePolicyName(name string) (PolicyRef, bool) {
	m := policyName.FindStringSubmatch(name)
	if m == nil {
		return PolicyRef{}, false
	}
	rule, err := strconv.Atoi(m[4])
	if err != nil {
		return PolicyRef{}, false
	}
	return PolicyRef{Provider: m[1], Namespace: m[2], Name: m[3], Rule: rule, BadCustom: m[5] != ""}, true
}

// decision builds the Decision for an RBAC policy, resolving its origin when it can.
func (c Config) decision(filter, policy, reason string) Decision {
	d := Decision{Filter: filter, Policy: policy, Reason: reason}
	if ref, ok := ParsePolicyName(policy); ok {
		d.Ref = &ref
		if c.Origins != nil {
			d.Origin = c.Origins("AuthorizationPolicy", ref.Namespace, ref.Name)
		}
	}
	return d
}

package model

import (
	"strconv"
	"strings"
)

// Validate checks one object the way Istio's admission validation does and returns every
// problem found. An object with errors is not used as written: sources keep its last good
// version or leave it out, and translators fail closed where they meet what is left.
func Validate(o Object, mesh Mesh) []Problem {
	m := o.ObjectMeta()
	var ps []Problem
	if m.Name == "" {
		ps = append(ps, ProblemFor(m, SeverityError, "metadata.name", "must not be empty"))
	}
	if m.Namespace == "" {
		ps = append(ps, ProblemFor(m, SeverityError, "metadata.namespace", "must not be empty"))
	}
	switch v := o.(type) {
	case *RequestAuthentication:
		ps = append(ps, validateRequestAuthentication(v)...)
	case *AuthorizationPolicy:
		ps = append(ps, validateAuthorizationPolicy(v, mesh)...)
	case *PeerAuthentication:
		ps = append(ps, validatePeerAuthentication(v, mesh)...)
	case *Gateway:
		ps = append(ps, validateGateway(v)...)
	case *VirtualService:
		ps = append(ps, validateVirtualService(v)...)
	case *DestinationRule:
		ps = append(ps, validateDestinationRule(v)...)
	case *ServiceEntry:
		ps = append(ps, validateServiceEntry(v)...)
	case *WorkloadEntry:
		ps = append(ps, validateWorkloadEntry(v)...)
	}
	return SortProblems(ps)
}

// fieldPath joins path elements: fieldPath("spec.rules", 2, "from") = "spec.rules[2].from".
func fieldPath(parts ...any) string {
	var b strings.Builder
	for _, p := range parts {
		switch x := p.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(x) + "]")
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(x)
		}
	}
	return b.String()
}

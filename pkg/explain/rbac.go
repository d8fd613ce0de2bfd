package explain

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
)

// RBACRequest is what Envoy's RBAC filters see of one request (HTTP) or connection (TCP).
// HTTP-only parts are left empty for a TCP connection.
type RBACRequest struct {
	Method string
	// Host is the :authority, port included when the client sent one.
	Host string
	// Path is the normalised path; a query string is ignored by url_path matching.
	Path string
	// Headers by lower-case name; several values of one header are joined with ",".
	Headers map[string]string

	DestinationIP   string
	DestinationPort uint32
	// SourceIP is the connection's peer (direct_remote_ip); RemoteIP the client address from
	// x-forwarded-for or the PROXY protocol (remote_ip). An empty RemoteIP means SourceIP.
	SourceIP, RemoteIP string
	// PeerPrincipal is the peer certificate's URI SAN, "" on a plaintext connection.
	PeerPrincipal string
	SNI           string

	// Metadata is the dynamic metadata by filter namespace; a verified JWT's payload is
	// Metadata["envoy.filters.http.jwt_authn"]["payload"] (a map[string]any).
	Metadata map[string]map[string]any
}

// RBACResult is the outcome of one RBAC engine (the enforced rules or the shadow rules).
type RBACResult struct {
	// Allowed is the engine's decision; a LOG engine always allows.
	Allowed bool
	// Policy is the name of the first matching policy (Envoy keeps policies sorted by name),
	// "" when none matched.
	Policy string
}

// RBACEvaluate runs one RBAC engine. A nil config enforces nothing: the request is allowed.
func RBACEvaluate(cfg *rbacv3.RBAC, r *RBACRequest) (RBACResult, error) {
	if cfg == nil {
		return RBACResult{Allowed: true}, nil
	}
	matched := ""
	for _, name := range slices.Sorted(maps.Keys(cfg.GetPolicies())) {
		ok, err := RBACPolicyMatches(cfg.GetPolicies()[name], r)
		if err != nil {
			return RBACResult{}, fmt.Errorf("policy %s: %w", name, err)
		}
		if ok {
			matched = name
			break
		}
	}
	switch cfg.GetAction() {
	case rbacv3.RBAC_ALLOW:
		return RBACResult{Allowed: matched != "", Policy: matched}, nil
	case rbacv3.RBAC_DENY:
		return RBACResult{Allowed: matched == "", Policy: matched}, nil
	case rbacv3.RBAC_LOG:
		return RBACResult{Allowed: true, Policy: matched}, nil
	}
	return RBACResult{}, fmt.Errorf("unsupported RBAC action %v", cfg.GetAction())
}

// RBACPolicyMatches: a policy matches when any permission and any principal match.
func RBACPolicyMatches(p *rbacv3.Policy, r *RBACRequest) (bool, error) {
	if p.GetCondition() != nil || p.GetCheckedCondition() != nil {
		return false, fmt.Errorf("CEL conditions are not supported")
	}
	perm, err := rbacAny(p.GetPermissions(), func(x *rbacv3.Permission) (bool, error) { return RBACPermissionMatches(x, r) })
	if err != nil || !perm {
		return false, err
	}
	return rbacAny(p.GetPrincipals(), func(x *rbacv3.Principal) (bool, error) { return RBACPrincipalMatches(x, r) })
}

// RBACFilterResult is the outcome of one envoy.filters.{http,network}.rbac filter.
type RBACFilterResult struct {
	Enforced RBACResult
	// Shadow is set when the filter has shadow rules; Envoy records it as dynamic metadata
	// <prefix>shadow_effective_policy_id / <prefix>shadow_engine_result.
	Shadow *RBACResult
}

// RBACFilter evaluates a filter's enforced rules and shadow rules.
func RBACFilter(rules, shadow *rbacv3.RBAC, r *RBACRequest) (RBACFilterResult, error) {
	var out RBACFilterResult
	var err error
	if out.Enforced, err = RBACEvaluate(rules, r); err != nil {
		return out, fmt.Errorf("rules: %w", err)
	}
	if shadow != nil {
		s, err := RBACEvaluate(shadow, r)
		if err != nil {
			return out, fmt.Errorf("shadow rules: %w", err)
		}
		out.Shadow = &s
	}
	return out, nil
}

// RBACChainFilter is one RBAC filter of a chain, as its rules and shadow rules.
type RBACChainFilter struct {
	Rules, ShadowRules *rbacv3.RBAC
}

// RBACChainResult says whether a chain of RBAC filters lets a request through, and if not,
// which filter (index) and policy stopped it ("" for an ALLOW filter nothing matched, which
// Envoy reports as "none").
type RBACChainResult struct {
	Allowed bool
	Filter  int
	Policy  string
}

// RBACChain runs RBAC filters in order; the first denial stops the request. Shadow rules are
// evaluated too (so a malformed one is an error) although, as in Envoy, they never deny.
func RBACChain(filters []RBACChainFilter, r *RBACRequest) (RBACChainResult, error) {
	for i, f := range filters {
		res, err := RBACFilter(f.Rules, f.ShadowRules, r)
		if err != nil {
			return RBACChainResult{}, fmt.Errorf("filter %d: %w", i, err)
		}
		if !res.Enforced.Allowed {
			return RBACChainResult{Filter: i, Policy: res.Enforced.Policy}, nil
		}
	}
	return RBACChainResult{Allowed: true, Filter: -1}, nil
}

func rbacAny[T any](xs []T, f func(T) (bool, error)) (bool, error) {
	for _, x := range xs {
		ok, err := f(x)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func rbacAll[T any](xs []T, f func(T) (bool, error)) (bool, error) {
	for _, x := range xs {
		ok, err := f(x)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// rbacPath strips the query and fragment, as url_path and uri_template matching do.
func rbacPath(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return p[:i]
	}
	return p
}

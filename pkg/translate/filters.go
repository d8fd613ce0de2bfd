package translate

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// httpSlot is one position in the HTTP filter chain. build returns no filter when nothing
// applies to the proxy: empty slots emit nothing.
type httpSlot struct {
	name  string
	build func(Inputs) ([]*hcmv3.HttpFilter, []model.Problem)
}

// httpSlots is the HTTP filter order on every inbound (sidecar) and gateway HTTP chain; it is
// Istio's order (SEMANTICS.md §4.5). custom is the proxy's CUSTOM policies, translated once and
// used by two slots.
func httpSlots(custom *authzCustom) []httpSlot {
	rbac := func(a policyAction) func(Inputs) ([]*hcmv3.HttpFilter, []model.Problem) {
		return func(in Inputs) ([]*hcmv3.HttpFilter, []model.Problem) { return rbacHTTPFiltersWith(in, a, custom) }
	}
	return []httpSlot{
		// CUSTOM first, before jwt_authn, as Istio places it: an RBAC filter whose shadow rules
		// mark the requests a provider must see, then ext_authz enabled by that mark. This is
		// why CUSTOM rules may not use request.auth attributes.
		{"custom", func(Inputs) ([]*hcmv3.HttpFilter, []model.Problem) { return customAuthzFiltersOf(custom) }},
		// jwt_authn verifies tokens and writes the payload to dynamic metadata, which the RBAC
		// filters below match for requestPrincipals and request.auth.claims.
		{"jwt_authn", jwtAuthnFilters},
		// AUDIT only logs (action LOG); it must see the request before DENY can stop it.
		{"rbac_audit", rbac(actionAudit)},
		// DENY before ALLOW: a matching DENY wins over any ALLOW. It also carries the CUSTOM
		// rules that fail closed (unknown provider), and reports the CUSTOM problems.
		{"rbac_deny", rbac(actionDeny)},
		{"rbac_allow", rbac(actionAllow)},
		// The router is always last.
		{"router", routerFilters},
	}
}

// policyAction is the AuthorizationPolicy action an RBAC filter enforces.
type policyAction int

const (
	actionAudit policyAction = iota
	actionDeny
	actionAllow
)

// httpFilters builds the HTTP filters for a proxy's policy-enforcing chains, once per proxy:
// every such chain of the proxy shares them.
func httpFilters(in Inputs) ([]*hcmv3.HttpFilter, []model.Problem) {
	var out []*hcmv3.HttpFilter
	var problems []model.Problem
	for _, s := range httpSlots(customAuthz(in, false)) {
		f, p := s.build(in)
		out = append(out, f...)
		problems = append(problems, p...)
	}
	return out, problems
}

// routerFilters is the terminal filter; only the router slot is never empty.
func routerFilters(Inputs) ([]*hcmv3.HttpFilter, []model.Problem) {
	return []*hcmv3.HttpFilter{{
		Name:       "envoy.filters.http.router",
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&routerv3.Router{})},
	}}, nil
}

// networkAuthzFilters are placed before tcp_proxy on policy-enforcing TCP chains, in the order
// CUSTOM (gRPC providers) → AUDIT → DENY → ALLOW (SEMANTICS.md §4.5).
func networkAuthzFilters(in Inputs) ([]*listenerv3.Filter, []model.Problem) {
	return rbacNetworkFilters(in)
}

// policyFilters builds a proxy's policy-enforcing filters once, the first time a chain needs
// them, and shares them between all its chains; the problems found are reported once.
type policyFilters struct {
	http    func() []*hcmv3.HttpFilter
	network func() []*listenerv3.Filter
}

func newPolicyFilters(in Inputs, problems *[]model.Problem) policyFilters {
	return policyFilters{
		http:    once(func() ([]*hcmv3.HttpFilter, []model.Problem) { return httpFilters(in) }, problems),
		network: once(func() ([]*listenerv3.Filter, []model.Problem) { return networkAuthzFilters(in) }, problems),
	}
}

func once[T any](build func() ([]T, []model.Problem), problems *[]model.Problem) func() []T {
	var built []T
	done := false
	return func() []T {
		if !done {
			var ps []model.Problem
			built, ps = build()
			*problems = append(*problems, ps...)
			done = true
		}
		return built
	}
}

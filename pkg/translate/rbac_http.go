package translate

import (
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	securityv1beta1 "istio.io/api/security/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// Filter names and stat prefixes Istio uses, kept so dashboards and shadow metadata keys
// carry over (SEMANTICS.md §4.5, §4.7).
const (
	authzHTTPFilterName      = "envoy.filters.http.rbac"
	authzNetworkFilterName   = "envoy.filters.network.rbac"
	authzExtAuthzHTTPName    = "envoy.filters.http.ext_authz"
	authzExtAuthzNetworkName = "envoy.filters.network.ext_authz"
	authzCustomStatPrefix    = "istio_ext_authz_"
	authzDryRunCustomPrefix  = "istio_dry_run_custom_"
	authzTCPStatPrefix       = "tcp."
)

// customAuthzFilters builds, per CUSTOM provider (sorted), an RBAC filter whose shadow rules
// mark the requests the provider must see, then ext_authz enabled by that mark; then one
// shadow-only filter for dry-run CUSTOM rules. Problems are reported by the DENY slot, which
// receives the CUSTOM rules that fail closed.
func customAuthzFilters(in Inputs) ([]*hcmv3.HttpFilter, []model.Problem) {
	return customAuthzFiltersOf(customAuthz(in, false))
}

// customAuthzFiltersOf builds the CUSTOM filters from an already translated CUSTOM set.
func customAuthzFiltersOf(c *authzCustom) ([]*hcmv3.HttpFilter, []model.Problem) {
	var out []*hcmv3.HttpFilter
	for _, name := range c.providerNames() {
		out = append(out,
			authzHTTPFilter(authzHTTPFilterName, &rbachttpv3.RBAC{
				ShadowRules:           &rbacv3.RBAC{Action: rbacv3.RBAC_DENY, Policies: c.byProvider[name].rules},
				ShadowRulesStatPrefix: authzCustomStatPrefix,
			}),
			authzHTTPFilter(authzExtAuthzHTTPName, extAuthzHTTP(c.providers[name], c.targets[name])))
	}
	if len(c.dryRun.shadow) > 0 {
		out = append(out, authzHTTPFilter(authzHTTPFilterName, &rbachttpv3.RBAC{
			ShadowRules:           &rbacv3.RBAC{Action: rbacv3.RBAC_DENY, Policies: c.dryRun.shadow},
			ShadowRulesStatPrefix: authzDryRunCustomPrefix,
		}))
	}
	return out, nil
}

// rbacHTTPFilters builds the envoy.filters.http.rbac filter for one action, or nothing when no
// policy of that action selects the proxy.
func rbacHTTPFilters(in Inputs, action policyAction) ([]*hcmv3.HttpFilter, []model.Problem) {
	var c *authzCustom
	if action == actionDeny {
		c = customAuthz(in, false)
	}
	return rbacHTTPFiltersWith(in, action, c)
}

// rbacHTTPFiltersWith is rbacHTTPFilters with the CUSTOM set translated once per proxy by the
// caller: the DENY filter takes its fail-closed rules (c may be nil for other actions).
func rbacHTTPFiltersWith(in Inputs, action policyAction, c *authzCustom) ([]*hcmv3.HttpFilter, []model.Problem) {
	set, problems := authzPolicies(in, action, false)
	if action == actionDeny && c != nil {
		problems = append(problems, c.problems...)
		for name, p := range c.deny.rules {
			set.add(name, p, false)
		}
	}
	if set.empty() {
		return nil, problems
	}
	rules, shadow, prefix := authzRBAC(set, action)
	return []*hcmv3.HttpFilter{authzHTTPFilter(authzHTTPFilterName, &rbachttpv3.RBAC{
		Rules: rules, ShadowRules: shadow, ShadowRulesStatPrefix: prefix,
	})}, problems
}

func authzHTTPFilter(name string, cfg proto.Message) *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{Name: name, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(cfg)}}
}

// authzPolicies translates the ALLOW, DENY or AUDIT policies selecting the proxy, in
// (namespace, name) order. Policies with an unknown action deny all, with the DENY filter.
func authzPolicies(in Inputs, action policyAction, tcp bool) (authzPolicySet, []model.Problem) {
	var set authzPolicySet
	var problems []model.Problem
	for _, ap := range model.PoliciesFor(in.Store.AuthorizationPolicies, in.Proxy, in.Store.Mesh) {
		switch a := ap.Spec.GetAction(); {
		case a == securityv1beta1.AuthorizationPolicy_ALLOW && action == actionAllow:
			problems = append(problems, addAllow(in, &set, ap, tcp)...)
		case a == securityv1beta1.AuthorizationPolicy_DENY && action == actionDeny,
			a == securityv1beta1.AuthorizationPolicy_AUDIT && action == actionAudit:
			problems = append(problems, addDenyOrAudit(in, &set, ap, tcp)...)
		case securityv1beta1.AuthorizationPolicy_Action_name[int32(a)] == "" && action == actionDeny:
			problems = append(problems, addUnknownAction(&set, ap)...)
		}
	}
	return set, problems
}

// authzRBAC splits a policy set into the enforced and the dry-run RBAC of one action. With
// only dry-run policies, rules stay unset so the filter enforces nothing (SEMANTICS.md §4.7).
func authzRBAC(set authzPolicySet, action policyAction) (rules, shadow *rbacv3.RBAC, prefix string) {
	a := rbacv3.RBAC_ALLOW
	switch action {
	case actionDeny:
		a, prefix = rbacv3.RBAC_DENY, "istio_dry_run_deny_"
	case actionAllow:
		prefix = "istio_dry_run_allow_"
	case actionAudit:
		a = rbacv3.RBAC_LOG
	}
	if len(set.rules) > 0 {
		rules = &rbacv3.RBAC{Action: a, Policies: set.rules}
	}
	if len(set.shadow) > 0 {
		shadow = &rbacv3.RBAC{Action: a, Policies: set.shadow}
	} else {
		prefix = ""
	}
	return rules, shadow, prefix
}

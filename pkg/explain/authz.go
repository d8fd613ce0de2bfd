package explain

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
)

// rbacDeniedBody is the body of the 403 Envoy's HTTP RBAC filter sends.
const rbacDeniedBody = "RBAC: access denied"

// rbacFilter is one envoy.filters.{http,network}.rbac filter.
type rbacFilter struct {
	rules, shadow *rbacv3.RBAC
	shadowPrefix  string
	tcp           bool
}

func rbacNamespace(tcp bool) string {
	if tcp {
		return "envoy.filters.network.rbac"
	}
	return "envoy.filters.http.rbac"
}

// rbac runs one RBAC filter: shadow rules are evaluated and recorded as dynamic metadata
// (<prefix>shadow_effective_policy_id, <prefix>shadow_engine_result, which ext_authz's
// filter_enabled_metadata reads) but never deny; the enforced rules may.
func (e *evaluation) rbac(name string, f rbacFilter, r *RBACRequest) (done bool, err error) {
	res, err := RBACFilter(f.rules, f.shadow, r)
	if err != nil {
		return false, err
	}
	if res.Shadow != nil {
		ns := rbacNamespace(f.tcp)
		if e.meta[ns] == nil {
			e.meta[ns] = map[string]any{}
		}
		if res.Shadow.Policy != "" {
			e.meta[ns][f.shadowPrefix+"shadow_effective_policy_id"] = res.Shadow.Policy
		}
		e.meta[ns][f.shadowPrefix+"shadow_engine_result"] = engineResult(res.Shadow.Allowed)
		e.out.step("rbac", name, "%s shadow rules (not enforced): %s", shadowKind(f.shadowPrefix, f.shadow),
			matchText(f.shadow, res.Shadow.Policy))
	}
	if f.rules == nil {
		return false, nil
	}
	action := actionName(f.rules.GetAction())
	e.out.step("rbac", name, "%s: %s → %s", action, matchText(f.rules, res.Enforced.Policy), engineResult(res.Enforced.Allowed))
	if res.Enforced.Allowed {
		return false, nil
	}
	reason := action + " policy matched"
	if res.Enforced.Policy == "" {
		reason = "no ALLOW policy matched"
	}
	d := e.cfg.decision(name, res.Enforced.Policy, reason)
	if f.tcp {
		e.out.close(d)
	} else {
		e.out.deny(http.StatusForbidden, rbacDeniedBody, d)
	}
	return true, nil
}

// actionName uses Istio's words: Envoy's LOG action is an AUDIT policy.
func actionName(a rbacv3.RBAC_Action) string {
	if a == rbacv3.RBAC_LOG {
		return "AUDIT"
	}
	return a.String()
}

func engineResult(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "denied"
}

// shadowKind says what shadow rules are for, from the stat prefix the control plane gives
// them: CUSTOM rules marking requests for ext_authz, or dry-run policies.
func shadowKind(prefix string, cfg *rbacv3.RBAC) string {
	switch {
	case strings.HasPrefix(prefix, "istio_ext_authz"):
		return "CUSTOM (ext_authz trigger)"
	case strings.HasPrefix(prefix, "istio_dry_run"):
		return "dry-run " + actionName(cfg.GetAction())
	}
	return actionName(cfg.GetAction())
}

// matchText names the matching policy, or the policies none of which matched.
func matchText(cfg *rbacv3.RBAC, matched string) string {
	if matched != "" {
		return "policy " + matched + " matches"
	}
	names := slices.Sorted(maps.Keys(cfg.GetPolicies()))
	if len(names) == 0 {
		return "no policies"
	}
	return fmt.Sprintf("none of %d policies matches (%s)", len(names), strings.Join(names, ", "))
}

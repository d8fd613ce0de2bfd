package translate

import (
	"strconv"

	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	securityv1beta1 "istio.io/api/security/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// RBAC policy names follow Istio's, so they read the same in response details
// (rbac_access_denied_matched_policy[...]), stats and shadow metadata (SEMANTICS.md §4.1):
//
//	ns[<ns>]-policy[<name>]-rule[<i>]                                  ALLOW, DENY, AUDIT
//	istio-ext-authz-<provider>-ns[<ns>]-policy[<name>]-rule[<i>]       CUSTOM
//	<CUSTOM name>-deny-due-to-bad-CUSTOM-action                        CUSTOM turned into DENY
func authzRuleName(ns, name string, i int) string {
	return "ns[" + ns + "]-policy[" + name + "]-rule[" + strconv.Itoa(i) + "]"
}

func authzCustomRuleName(provider, ns, name string, i int) string {
	return authzCustomPrefix(provider) + authzRuleName(ns, name, i)
}

// authzCustomPrefix starts every CUSTOM rule name of a provider. It ends in "-" so that the
// ext_authz filter_enabled_metadata prefix of provider "a" is not a prefix of provider "ab"'s.
func authzCustomPrefix(provider string) string { return "istio-ext-authz-" + provider + "-" }

const authzBadCustomSuffix = "-deny-due-to-bad-CUSTOM-action"

// authzPolicySet is the content of one RBAC filter: enforced rules and dry-run (shadow) rules.
type authzPolicySet struct {
	rules, shadow map[string]*rbacv3.Policy
}

func (s *authzPolicySet) add(name string, p *rbacv3.Policy, dryRun bool) {
	m := &s.rules
	if dryRun {
		m = &s.shadow
	}
	if *m == nil {
		*m = map[string]*rbacv3.Policy{}
	}
	(*m)[name] = p
}

func (s *authzPolicySet) empty() bool { return len(s.rules) == 0 && len(s.shadow) == 0 }

// authzMatchNever is the policy of an ALLOW rule that must not grant anything.
func authzMatchNever() *rbacv3.Policy {
	return &rbacv3.Policy{
		Permissions: []*rbacv3.Permission{authzNeverRule()},
		Principals:  []*rbacv3.Principal{authzNeverID()},
	}
}

// authzMatchAll is the policy of a DENY rule that failed as a whole: deny all in its scope.
func authzMatchAll() *rbacv3.Policy {
	return &rbacv3.Policy{
		Permissions: []*rbacv3.Permission{authzAndRules([]*rbacv3.Permission{authzAnyRule()})},
		Principals:  []*rbacv3.Principal{authzAndIDs([]*rbacv3.Principal{authzAnyID()})},
	}
}

// builtRule is one Istio rule translated for one chain kind.
type builtRule struct {
	policy *rbacv3.Policy
	// dropped: a part was left out, so policy is wider than written.
	dropped  bool
	problems []model.Problem
}

// authzRule translates rules[i] of ap, every dropped part treated as true; the caller picks
// the fail-closed outcome for the policy's action.
func authzRule(in Inputs, ap *model.AuthorizationPolicy, i int, tcp bool) builtRule {
	r := ap.Spec.GetRules()[i]
	field := authzPath("spec.rules", i)
	b := ruleBuilder{
		ctx:  newAuthzContext(in.Store.Mesh, ap.Namespace),
		meta: &ap.Meta, action: ap.Spec.GetAction(), tcp: tcp,
	}
	if r == nil {
		b.fail(field, "`rule` must not be nil")
		return builtRule{policy: authzMatchAll(), dropped: true, problems: b.problems}
	}
	p := b.build(field, r)
	return builtRule{policy: p, dropped: b.dropped, problems: b.problems}
}

// authzDryRun reads the dry-run annotation; an unparsable value enforces the policy.
func authzDryRun(ap *model.AuthorizationPolicy) (bool, []model.Problem) {
	dry, err := model.AuthorizationDryRun(&ap.Meta)
	if err != nil {
		return false, []model.Problem{model.ProblemFor(&ap.Meta, model.SeverityError,
			"metadata.annotations["+model.DryRunAnnotation+"]", "%v", err)}
	}
	return dry, nil
}

// addAllow adds an ALLOW policy: a failed rule matches nothing, and a policy without rules
// contributes one never-matching policy so that its presence still denies by default.
func addAllow(in Inputs, set *authzPolicySet, ap *model.AuthorizationPolicy, tcp bool) []model.Problem {
	dry, problems := authzDryRun(ap)
	if len(ap.Spec.GetRules()) == 0 {
		set.add(authzRuleName(ap.Namespace, ap.Name, 0), authzMatchNever(), dry)
		return problems
	}
	for i := range ap.Spec.GetRules() {
		r := authzRule(in, ap, i, tcp)
		problems = append(problems, r.problems...)
		if r.dropped {
			r.policy = authzMatchNever()
		}
		set.add(authzRuleName(ap.Namespace, ap.Name, i), r.policy, dry)
	}
	return problems
}

// addDenyOrAudit adds a DENY or AUDIT policy: a dropped part widens the rule. A DENY policy
// without rules is meaningless and ignored, as Istio's validation rejects it.
func addDenyOrAudit(in Inputs, set *authzPolicySet, ap *model.AuthorizationPolicy, tcp bool) []model.Problem {
	dry, problems := authzDryRun(ap)
	if ap.Spec.GetRules() == nil {
		if ap.Spec.GetAction() == securityv1beta1.AuthorizationPolicy_DENY {
			problems = append(problems, model.ProblemFor(&ap.Meta, model.SeverityError, "spec.rules",
				"DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request"))
		}
		return problems
	}
	for i, rule := range ap.Spec.GetRules() {
		r := authzRule(in, ap, i, tcp)
		problems = append(problems, r.problems...)
		if rule == nil && ap.Spec.GetAction() == securityv1beta1.AuthorizationPolicy_AUDIT {
			continue // a malformed AUDIT rule logs nothing rather than everything
		}
		set.add(authzRuleName(ap.Namespace, ap.Name, i), r.policy, dry)
	}
	return problems
}

// addUnknownAction denies everything in the scope of a policy whose action is not known:
// whatever it meant, ignoring it could allow what it should have denied.
func addUnknownAction(set *authzPolicySet, ap *model.AuthorizationPolicy) []model.Problem {
	dry, problems := authzDryRun(ap)
	set.add(authzRuleName(ap.Namespace, ap.Name, 0), authzMatchAll(), dry)
	return append(problems, model.ProblemFor(&ap.Meta, model.SeverityError, "spec.action",
		"unknown action %d: the policy denies every request in its scope", int32(ap.Spec.GetAction())))
}

package translate

import (
	"fmt"
	"slices"

	securityv1beta1 "istio.io/api/security/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// authzCustom is what the CUSTOM policies selecting a proxy give one chain kind.
type authzCustom struct {
	// byProvider holds the rules each usable provider checks, enforced rules only.
	byProvider map[string]*authzPolicySet
	providers  map[string]ExtAuthzProvider
	targets    map[string]extAuthzTarget
	// users is the first policy (store order) that uses each provider, for problems about
	// the provider itself.
	users map[string]*model.Meta
	// dryRun rules are only evaluated in shadow; their provider is never called (D6).
	dryRun authzPolicySet
	// deny holds the rules that fail closed as DENY rules: unknown or unusable provider, or
	// a part that cannot be translated (SEMANTICS.md §4.5, §4.9).
	deny     authzPolicySet
	problems []model.Problem
}

// providerNames returns the providers with rules, sorted: one filter pair each.
func (c *authzCustom) providerNames() []string { return slicesSortedKeys(c.byProvider) }

func customAuthz(in Inputs, tcp bool) *authzCustom {
	c := &authzCustom{
		byProvider: map[string]*authzPolicySet{},
		providers:  map[string]ExtAuthzProvider{}, targets: map[string]extAuthzTarget{},
		users: map[string]*model.Meta{},
	}
	for _, ap := range model.PoliciesFor(in.Store.AuthorizationPolicies, in.Proxy, in.Store.Mesh) {
		if ap.Spec.GetAction() == securityv1beta1.AuthorizationPolicy_CUSTOM {
			c.add(in, ap, tcp)
		}
	}
	return c
}

func (c *authzCustom) add(in Inputs, ap *model.AuthorizationPolicy, tcp bool) {
	dry, ps := authzDryRun(ap)
	c.problems = append(c.problems, ps...)
	if ap.Spec.GetRules() == nil {
		c.problems = append(c.problems, model.ProblemFor(&ap.Meta, model.SeverityError, "spec.rules",
			"CUSTOM action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request"))
		return
	}
	name := ap.Spec.GetProvider().GetName()
	usable := c.provider(in, ap, name, tcp)
	for i := range ap.Spec.GetRules() {
		r := authzRule(in, ap, i, tcp)
		c.problems = append(c.problems, r.problems...)
		rname := authzCustomRuleName(name, ap.Namespace, ap.Name, i)
		switch {
		case dry:
			c.dryRun.add(rname, r.policy, true)
		case !usable || r.dropped:
			c.deny.add(rname+authzBadCustomSuffix, r.policy, false)
		default:
			if c.byProvider[name] == nil {
				c.byProvider[name] = &authzPolicySet{}
			}
			c.byProvider[name].add(rname, r.policy, false)
		}
	}
}

// provider looks a provider up and reports whether this chain kind can call it.
func (c *authzCustom) provider(in Inputs, ap *model.AuthorizationPolicy, name string, tcp bool) bool {
	fail := func(sev model.Severity, format string, args ...any) bool {
		c.problems = append(c.problems, model.ProblemFor(&ap.Meta, sev, "spec.provider.name", format, args...))
		return false
	}
	i := slices.IndexFunc(in.ExtAuthz, func(p ExtAuthzProvider) bool { return p.Name == name })
	if name == "" || i < 0 {
		known := make([]string, 0, len(in.ExtAuthz))
		for _, p := range in.ExtAuthz {
			known = append(known, p.Name)
		}
		return fail(model.SeverityError, "unknown CUSTOM provider %q (configured: %v): its rules deny the requests they match", name, known)
	}
	p := in.ExtAuthz[i]
	t, err := p.target()
	if err != nil {
		return fail(model.SeverityError, "CUSTOM provider %q is invalid: %v: its rules deny the requests they match", name, err)
	}
	if tcp && p.EnvoyExtAuthzGRPC == nil {
		return fail(model.SeverityWarning, "%s", fmt.Sprintf("CUSTOM provider %q is HTTP-only and cannot check TCP connections: its rules deny the TCP connections they match", name))
	}
	c.providers[name], c.targets[name] = p, t
	if _, ok := c.users[name]; !ok {
		c.users[name] = &ap.Meta
	}
	return true
}

package translate

import (
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	securityv1beta1 "istio.io/api/security/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// ruleBuilder turns one Istio rule into one RBAC policy. A part it cannot translate (or that
// a TCP chain cannot evaluate) is dropped, i.e. treated as true, and recorded; the caller
// decides how the rule fails closed for its action (SEMANTICS.md §4.9).
type ruleBuilder struct {
	ctx    authzContext
	meta   *model.Meta
	action securityv1beta1.AuthorizationPolicy_Action
	tcp    bool // building for envoy.filters.network.rbac

	// dropped is set when a part was left out; the policy is then wider than written.
	dropped  bool
	problems []model.Problem
}

// build returns the rule as RBAC policy, with every dropped part treated as true:
// OR(from) ∧ OR(to) ∧ AND(when) (SEMANTICS.md §4.1).
func (b *ruleBuilder) build(field string, r *securityv1beta1.Rule) *rbacv3.Policy {
	var whenIDs []*rbacv3.Principal
	var whenRules []*rbacv3.Permission
	for i, c := range r.GetWhen() {
		ids, rules := b.condition(authzPath(field, "when", i), c)
		whenIDs = append(whenIDs, ids...)
		whenRules = append(whenRules, rules...)
	}
	p := &rbacv3.Policy{}
	for i, f := range r.GetFrom() {
		ids := b.source(authzPath(field, "from", i, "source"), f.GetSource())
		p.Principals = append(p.Principals, andIDsOrAny(append(ids, whenIDs...)))
	}
	if len(r.GetFrom()) == 0 {
		p.Principals = []*rbacv3.Principal{andIDsOrAny(whenIDs)}
	}
	for i, t := range r.GetTo() {
		rules := b.operation(authzPath(field, "to", i, "operation"), t.GetOperation())
		p.Permissions = append(p.Permissions, andRulesOrAny(append(rules, whenRules...)))
	}
	if len(r.GetTo()) == 0 {
		p.Permissions = []*rbacv3.Permission{andRulesOrAny(whenRules)}
	}
	return p
}

func andIDsOrAny(ids []*rbacv3.Principal) *rbacv3.Principal {
	if len(ids) == 0 {
		ids = []*rbacv3.Principal{authzAnyID()}
	}
	return authzAndIDs(ids)
}

func andRulesOrAny(rules []*rbacv3.Permission) *rbacv3.Permission {
	if len(rules) == 0 {
		rules = []*rbacv3.Permission{authzAnyRule()}
	}
	return authzAndRules(rules)
}

// source translates one from[].source in Istio's generation order.
func (b *ruleBuilder) source(field string, s *securityv1beta1.Source) []*rbacv3.Principal {
	if s == nil {
		b.fail(field, "`from.source` must not be nil")
		return nil
	}
	var ids []*rbacv3.Principal
	add := func(name string, a authzAttr, values, notValues []string) {
		if len(values) > 0 {
			ids = append(ids, b.principal(field+"."+name, a, values, false)...)
		}
		if len(notValues) > 0 {
			ids = append(ids, b.principal(field+".not"+upperFirstASCII(name), a, notValues, true)...)
		}
	}
	add("principals", b.ctx.principalsAttr(), s.GetPrincipals(), s.GetNotPrincipals())
	add("requestPrincipals", requestPrincipalsAttr(), s.GetRequestPrincipals(), s.GetNotRequestPrincipals())
	add("serviceAccounts", b.ctx.serviceAccountsAttr(), s.GetServiceAccounts(), s.GetNotServiceAccounts())
	add("trustDomains", b.ctx.trustDomainsAttr(), s.GetTrustDomains(), s.GetNotTrustDomains())
	add("namespaces", namespacesAttr(), s.GetNamespaces(), s.GetNotNamespaces())
	add("remoteIpBlocks", remoteIPBlocksAttr(), s.GetRemoteIpBlocks(), s.GetNotRemoteIpBlocks())
	add("ipBlocks", ipBlocksAttr(), s.GetIpBlocks(), s.GetNotIpBlocks())
	if isEmptySource(s) {
		b.fail(field, "`from.source` must not be empty")
	}
	return ids
}

// operation translates one to[].operation in Istio's generation order.
func (b *ruleBuilder) operation(field string, o *securityv1beta1.Operation) []*rbacv3.Permission {
	if o == nil {
		b.fail(field, "`to.operation` must not be nil")
		return nil
	}
	var rules []*rbacv3.Permission
	add := func(name string, a authzAttr, values, notValues []string) {
		if len(values) > 0 {
			rules = append(rules, b.permission(field+"."+name, a, values, false)...)
		}
		if len(notValues) > 0 {
			rules = append(rules, b.permission(field+".not"+upperFirstASCII(name), a, notValues, true)...)
		}
	}
	b.warnHostsWithoutPort(field, o)
	add("hosts", hostsAttr(), o.GetHosts(), o.GetNotHosts())
	add("methods", methodsAttr(), o.GetMethods(), o.GetNotMethods())
	add("paths", pathsAttr(), o.GetPaths(), o.GetNotPaths())
	add("ports", portsAttr(), o.GetPorts(), o.GetNotPorts())
	if len(o.GetHosts())+len(o.GetNotHosts())+len(o.GetMethods())+len(o.GetNotMethods())+
		len(o.GetPaths())+len(o.GetNotPaths())+len(o.GetPorts())+len(o.GetNotPorts()) == 0 {
		b.fail(field, "`to.operation` must not be empty")
	}
	return rules
}

// condition translates one when entry; its values and notValues are separate units.
func (b *ruleBuilder) condition(field string, c *securityv1beta1.Condition) ([]*rbacv3.Principal, []*rbacv3.Permission) {
	a, err := b.ctx.conditionAttr(c.GetKey())
	if err != nil {
		b.fail(authzPath(field, "key"), err.Error())
		return nil, nil
	}
	if len(c.GetValues()) == 0 && len(c.GetNotValues()) == 0 {
		b.fail(field, "at least one of `values` or `notValues` must be set for key "+c.GetKey())
		return nil, nil
	}
	vf, nf := field+".values", field+".notValues"
	if a.principal != nil {
		return append(b.principal(vf, a, c.GetValues(), false), b.principal(nf, a, c.GetNotValues(), true)...), nil
	}
	return nil, append(b.permission(vf, a, c.GetValues(), false), b.permission(nf, a, c.GetNotValues(), true)...)
}

// usable reports whether an attribute can be translated here, recording why not.
func (b *ruleBuilder) usable(field string, a authzAttr, values []string) bool {
	if len(values) == 0 {
		return false
	}
	for i, v := range values {
		if a.wildcard && model.AuthzMidWildcard(v) {
			b.warn(authzPath(field, i), model.AuthzMidWildcardReason(v))
		}
		if a.warn != nil {
			if w := a.warn(v); w != "" {
				b.warn(authzPath(field, i), w)
			}
		}
	}
	switch {
	case a.noCustom && b.action == securityv1beta1.AuthorizationPolicy_CUSTOM:
		b.fail(field, "not supported with CUSTOM action (it runs before identities and tokens are known)")
		return false
	case a.httpOnly && b.tcp:
		b.dropOnTCP(field)
		return false
	}
	return true
}

func (b *ruleBuilder) principal(field string, a authzAttr, values []string, negate bool) []*rbacv3.Principal {
	if !b.usable(field, a, values) {
		return nil
	}
	p, err := a.principal(values)
	if err != nil {
		b.fail(field, err.Error())
		return nil
	}
	if negate {
		p = authzNotID(p)
	}
	return []*rbacv3.Principal{p}
}

func (b *ruleBuilder) permission(field string, a authzAttr, values []string, negate bool) []*rbacv3.Permission {
	if !b.usable(field, a, values) {
		return nil
	}
	p, err := a.permission(values)
	if err != nil {
		b.fail(field, err.Error())
		return nil
	}
	if negate {
		p = authzNotRule(p)
	}
	return []*rbacv3.Permission{p}
}

func isEmptySource(s *securityv1beta1.Source) bool {
	return len(s.GetPrincipals())+len(s.GetNotPrincipals())+len(s.GetRequestPrincipals())+len(s.GetNotRequestPrincipals())+
		len(s.GetNamespaces())+len(s.GetNotNamespaces())+len(s.GetServiceAccounts())+len(s.GetNotServiceAccounts())+
		len(s.GetTrustDomains())+len(s.GetNotTrustDomains())+len(s.GetIpBlocks())+len(s.GetNotIpBlocks())+
		len(s.GetRemoteIpBlocks())+len(s.GetNotRemoteIpBlocks()) == 0
}

func upperFirstASCII(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

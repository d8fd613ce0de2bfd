package model

// This file is over 300 lines because it also exports the per-value checks that translation
// repeats (it must fail closed on objects that skipped validation): one source of truth for
// Istio's messages (SEMANTICS.md §4.2, §4.4, §4.7).

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	securityv1beta1 "istio.io/api/security/v1beta1"
)

// DryRunAnnotation marks an AuthorizationPolicy whose rules are evaluated but not enforced.
const DryRunAnnotation = "istio.io/dry-run"

// AuthorizationDryRun reads the dry-run annotation as a Go bool. An unparsable value returns
// an error and false: like Istio, the policy is then enforced.
func AuthorizationDryRun(m *Meta) (bool, error) {
	v, ok := m.Annotations[DryRunAnnotation]
	if !ok {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("invalid value %q for annotation %s: must be a boolean, the policy is enforced", v, DryRunAnnotation)
	}
	return b, nil
}

// ParseAuthzIP parses an ipBlocks / source.ip / destination.ip value: a CIDR, or a bare
// address meaning /32 or /128.
func ParseAuthzIP(v string) (netip.Prefix, error) {
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("bad CIDR range (%s): %v", v, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("bad IP address (%s)", v)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ParseAuthzPort parses a ports / destination.port value (decimal, 0-65535).
func ParseAuthzPort(v string) (uint32, error) {
	p, err := strconv.ParseUint(v, 10, 32)
	if err != nil || p > 65535 {
		return 0, fmt.Errorf("bad port (%s): must be a decimal number in 0-65535", v)
	}
	return uint32(p), nil
}

// CheckAuthzServiceAccount checks one serviceAccounts value: "sa" or "ns/sa".
func CheckAuthzServiceAccount(v string) error {
	ns, sa, hasNS := strings.Cut(v, "/")
	switch {
	case v == "":
		return fmt.Errorf("empty value not allowed")
	case strings.Contains(v, "*"):
		return fmt.Errorf("wildcard not allowed, found %q", v)
	case strings.Count(v, "/") > 1, hasNS && (ns == "" || sa == ""):
		return fmt.Errorf("expected format 'serviceAccount' or 'namespace/serviceAccount', found %q", v)
	case len(v) > 320:
		return fmt.Errorf("value cannot exceed 320 characters, found %q", v)
	}
	return nil
}

// CheckAuthzTrustDomain checks one trustDomains value: at most one '*', only at either end,
// and no '/'.
func CheckAuthzTrustDomain(v string) error {
	n := strings.Count(v, "*")
	switch {
	case v == "":
		return fmt.Errorf("empty value not allowed")
	case strings.Contains(v, "/"):
		return fmt.Errorf("trust domain %q must not contain '/'", v)
	case n > 1, n == 1 && !strings.HasPrefix(v, "*") && !strings.HasSuffix(v, "*"):
		return fmt.Errorf("trust domain %q may have one '*', only at its start or end", v)
	}
	return nil
}

var pathLiteral = regexp.MustCompile(`^[a-zA-Z0-9-._~%!$&'()+,;:@=]+$`)

// HasPathTemplate reports whether a path uses the {*} or {**} operators (SEMANTICS.md §4.4).
func HasPathTemplate(p string) bool {
	return strings.Contains(p, "{*}") || strings.Contains(p, "{**}")
}

// CheckPathTemplate checks a paths value: segments are {*}, {**} (at most once, last operator)
// or RFC 3986 pchar literals; '{' and '}' appear nowhere else.
func CheckPathTemplate(p string) error {
	isTemplate := HasPathTemplate(p)
	if isTemplate && !strings.HasPrefix(p, "/") {
		return fmt.Errorf("invalid or unsupported path %s: a path template must start with '/'", p)
	}
	if isTemplate && len(p) > 256 {
		return fmt.Errorf("invalid or unsupported path %s: a path template may have at most 256 characters", p)
	}
	seenAny := false
	for _, seg := range strings.Split(strings.Trim(p, "/"), "/") {
		switch {
		case (seg == "{*}" || seg == "{**}") && seenAny:
			return fmt.Errorf("invalid or unsupported path %s: {**} is not the last operator", p)
		case seg == "{**}":
			seenAny = true
		case seg == "{*}":
		case strings.ContainsAny(seg, "{}"):
			return fmt.Errorf("invalid or unsupported path %s: contains '{' or '}' beyond a supported path template", p)
		case isTemplate && !pathLiteral.MatchString(seg):
			return fmt.Errorf("invalid or unsupported path %s: contains segment %q with invalid string literal", p, seg)
		}
	}
	return nil
}

// AuthzKeyName returns the part of key in brackets after prefix: "request.headers[x]" → "x".
func AuthzKeyName(key, prefix string) (string, error) {
	rest := strings.TrimPrefix(key, prefix)
	if !strings.HasPrefix(rest, "[") || !strings.HasSuffix(rest, "]") || len(rest) < 3 || strings.ContainsAny(rest[1:len(rest)-1], "[]") {
		return "", fmt.Errorf("bad key (%s): should have format a[b]", key)
	}
	return rest[1 : len(rest)-1], nil
}

// AuthzClaimPath splits "request.auth.claims[a][b]" into [a b].
func AuthzClaimPath(key string) ([]string, error) {
	rest := strings.TrimPrefix(key, "request.auth.claims")
	if !strings.HasPrefix(rest, "[") || !strings.HasSuffix(rest, "]") {
		return nil, fmt.Errorf("bad key (%s): should have format a[b]", key)
	}
	parts := strings.Split(rest[1:len(rest)-1], "][")
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, "[]") {
			return nil, fmt.Errorf("bad key (%s): should have format a[b] or a[b][c]", key)
		}
	}
	return parts, nil
}

// AuthzConditionKeyError says why a when key is not accepted, or nil when it is.
func AuthzConditionKeyError(key string) error {
	switch key {
	case "source.ip", "remote.ip", "source.namespace", "source.principal", "source.serviceAccount",
		"source.trustDomain", "request.auth.principal", "request.auth.audiences", "request.auth.presenter",
		"destination.ip", "destination.port", "connection.sni":
		return nil
	case "":
		return fmt.Errorf("`key` must not be empty")
	case "destination.namespace":
		return fmt.Errorf("attribute %s is replaced by the metadata.namespace", key)
	case "destination.name", "destination.user":
		return fmt.Errorf("deprecated attribute %s: only supported in v1alpha1", key)
	}
	switch {
	case strings.HasPrefix(key, "request.headers["):
		_, err := AuthzKeyName(key, "request.headers")
		return err
	case strings.HasPrefix(key, "request.auth.claims["):
		_, err := AuthzClaimPath(key)
		return err
	case strings.HasPrefix(key, "experimental.envoy.filters."):
		open := strings.Index(key, "[")
		if open > len("experimental.envoy.filters.") && strings.HasSuffix(key, "]") && open < len(key)-2 {
			return nil
		}
		return fmt.Errorf("bad key (%s): should have format a[b]", key)
	case strings.HasPrefix(key, "destination.labels"):
		return fmt.Errorf("attribute %s is replaced by the workload selector", key)
	}
	return fmt.Errorf("unknown attribute: %s", key)
}

// AuthzMidWildcard reports a value Istio matches literally although it contains '*' (for
// example "a*b"): only a leading or trailing '*' is a wildcard (SEMANTICS.md §4.3). Path
// templates ({*}, {**}) are checked by CheckPathTemplate instead.
func AuthzMidWildcard(v string) bool {
	if v == "*" || HasPathTemplate(v) {
		return false
	}
	if strings.HasPrefix(v, "*") {
		v = v[1:]
	} else if strings.HasSuffix(v, "*") {
		v = v[:len(v)-1]
	}
	return strings.Contains(v, "*")
}

// AuthzMidWildcardReason is the warning for a value AuthzMidWildcard reports.
func AuthzMidWildcardReason(v string) string {
	return fmt.Sprintf("%q is matched literally: '*' is a wildcard only at the start or end of a value", v)
}

// AuthzHostWithoutPort reports a hosts value that will not match a request to host:port (the
// :authority carries the port when it is not the default); Istio documents this trap.
func AuthzHostWithoutPort(v string, all []string) bool {
	if v == "*" || strings.Contains(v, ":") {
		return false
	}
	for _, o := range all {
		if strings.HasPrefix(o, v+":") {
			return false
		}
	}
	return true
}

// AuthzHostWithoutPortReason is the warning for a value AuthzHostWithoutPort reports.
func AuthzHostWithoutPortReason(v string) string {
	return fmt.Sprintf("%q does not match requests to %s:<port>; add %q to match them too", v, v, v+":*")
}

// AuthzDenyTCPWarning is Istio's warning for a DENY rule that uses only HTTP attributes.
const AuthzDenyTCPWarning = "configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due " +
	"to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port"

func validateAuthorizationPolicy(ap *AuthorizationPolicy, mesh Mesh) []Problem {
	v := &apValidator{problems{meta: &ap.Meta}}
	spec := ap.Spec
	if spec == nil {
		spec = &securityv1beta1.AuthorizationPolicy{}
	}
	if _, err := AuthorizationDryRun(&ap.Meta); err != nil {
		v.errorf("metadata.annotations["+DryRunAnnotation+"]", "%v", err)
	}
	v.targets(spec)
	v.action(spec)
	for i, r := range spec.GetRules() {
		v.rule(spec.GetAction(), fieldPath("spec.rules", i), r)
	}
	return v.list
}

// apValidator checks one AuthorizationPolicy; the embedded problems collects its findings.
type apValidator struct {
	problems
}

// targets checks selector vs targetRef(s) and the kinds a targetRef may name.
func (v *apValidator) targets(spec *securityv1beta1.AuthorizationPolicy) {
	refs := spec.GetTargetRefs()
	switch {
	case spec.GetTargetRef() != nil && len(refs) > 0:
		v.errorf("spec.targetRef", "only one of targetRef or targetRefs can be set")
	case spec.GetSelector() != nil && (spec.GetTargetRef() != nil || len(refs) > 0):
		v.errorf("spec.selector", "only one of targetRefs or workloadSelector can be set")
	}
	if len(refs) > 16 {
		v.errorf("spec.targetRefs", "may not have more than 16 entries")
	}
	if r := spec.GetTargetRef(); r != nil {
		refs = append(refs, r)
	}
	for i, r := range refs {
		if r.GetGroup() == gatewayAPIGroup && r.GetKind() == "Gateway" {
			continue
		}
		field := fieldPath("spec.targetRefs", i)
		if i == len(refs)-1 && spec.GetTargetRef() != nil {
			field = "spec.targetRef"
		}
		reason := fmt.Sprintf("targetRef kind %s/%s is not supported: the policy applies to no proxy", r.GetGroup(), r.GetKind())
		if a := spec.GetAction(); a == securityv1beta1.AuthorizationPolicy_DENY || a == securityv1beta1.AuthorizationPolicy_CUSTOM {
			v.errorf(field, "%s (%s policy not applied)", reason, a)
		} else {
			v.warnf(field, "%s", reason)
		}
	}
}

// action checks what depends on the action alone: provider use and rule presence.
func (v *apValidator) action(spec *securityv1beta1.AuthorizationPolicy) {
	const meaningless = "%s action without `rules` is meaningless as it will never be triggered, " +
		"add an empty rule `{}` if you want it be triggered for every request"
	switch a := spec.GetAction(); a {
	case securityv1beta1.AuthorizationPolicy_CUSTOM:
		if spec.GetRules() == nil {
			v.errorf("spec.rules", meaningless, a)
		} else if spec.GetProvider().GetName() == "" {
			v.errorf("spec.provider.name", "`provider.name` must not be empty")
		}
	case securityv1beta1.AuthorizationPolicy_DENY:
		if spec.GetRules() == nil {
			v.errorf("spec.rules", meaningless, a)
		}
	case securityv1beta1.AuthorizationPolicy_ALLOW, securityv1beta1.AuthorizationPolicy_AUDIT:
	default:
		v.errorf("spec.action", "unknown action %d", int32(a))
	}
	if spec.GetProvider() != nil && spec.GetAction() != securityv1beta1.AuthorizationPolicy_CUSTOM {
		v.errorf("spec.provider", "`provider` must not be with non CUSTOM action, found %s", spec.GetAction())
	}
}

func (v *apValidator) rule(action securityv1beta1.AuthorizationPolicy_Action, field string, r *securityv1beta1.Rule) {
	if r == nil {
		v.errorf(field, "`rule` must not be nil")
		return
	}
	custom := action == securityv1beta1.AuthorizationPolicy_CUSTOM
	tcpFrom, tcpTo := false, false
	for i, f := range r.GetFrom() {
		tcpFrom = v.source(fieldPath(field, "from", i, "source"), f.GetSource(), custom) || tcpFrom
	}
	for i, t := range r.GetTo() {
		tcpTo = v.operation(fieldPath(field, "to", i, "operation"), t.GetOperation(), action == securityv1beta1.AuthorizationPolicy_DENY) || tcpTo
	}
	for i, c := range r.GetWhen() {
		v.condition(fieldPath(field, "when", i), c, custom)
	}
	hasFrom, hasTo := len(r.GetFrom()) > 0, len(r.GetTo()) > 0
	if action == securityv1beta1.AuthorizationPolicy_DENY && ((hasFrom && !hasTo && !tcpFrom) || (hasTo && !tcpTo)) {
		v.warnf(field, "%s", AuthzDenyTCPWarning)
	}
}

// authzList is one list field of a Source or Operation, checked value by value.
type authzList struct {
	name   string // the field's JSON name
	values []string
	check  func(string) error // nil: only non-empty
	// wild: the values follow the wildcard rule, so "a*b" earns a warning.
	wild bool
}

// source checks one from[].source and reports whether it has a field that works on TCP.
func (v *apValidator) source(field string, s *securityv1beta1.Source, custom bool) bool {
	if s == nil {
		v.errorf(field, "`from.source` must not be nil")
		return false
	}
	lists := []authzList{
		{"principals", s.GetPrincipals(), nil, true}, {"notPrincipals", s.GetNotPrincipals(), nil, true},
		{"requestPrincipals", s.GetRequestPrincipals(), nil, true}, {"notRequestPrincipals", s.GetNotRequestPrincipals(), nil, true},
		{"namespaces", s.GetNamespaces(), nil, true}, {"notNamespaces", s.GetNotNamespaces(), nil, true},
		{"serviceAccounts", s.GetServiceAccounts(), CheckAuthzServiceAccount, false},
		{"notServiceAccounts", s.GetNotServiceAccounts(), CheckAuthzServiceAccount, false},
		{"trustDomains", s.GetTrustDomains(), CheckAuthzTrustDomain, false},
		{"notTrustDomains", s.GetNotTrustDomains(), CheckAuthzTrustDomain, false},
		{"ipBlocks", s.GetIpBlocks(), checkAuthzIP, false}, {"notIpBlocks", s.GetNotIpBlocks(), checkAuthzIP, false},
		{"remoteIpBlocks", s.GetRemoteIpBlocks(), checkAuthzIP, false},
		{"notRemoteIpBlocks", s.GetNotRemoteIpBlocks(), checkAuthzIP, false},
	}
	tcp, set := false, false
	for _, l := range lists {
		if len(l.values) == 0 {
			continue
		}
		set = true
		tcp = tcp || !strings.Contains(strings.ToLower(l.name), "requestprincipals")
		v.values(field, l)
		if custom && !strings.Contains(l.name, "pBlocks") {
			v.errorf(fieldPath(field, l.name), "From.%s is currently not supported with CUSTOM action", upperFirst(l.name))
		}
	}
	if len(s.GetServiceAccounts())+len(s.GetNotServiceAccounts()) > 16 {
		v.errorf(fieldPath(field, "serviceAccounts"), "may not have more than 16 values")
	}
	if len(s.GetServiceAccounts())+len(s.GetNotServiceAccounts()) > 0 &&
		len(s.GetPrincipals())+len(s.GetNotPrincipals())+len(s.GetNamespaces())+len(s.GetNotNamespaces()) > 0 {
		v.errorf(fieldPath(field, "serviceAccounts"), "cannot set serviceAccounts with namespaces or principals")
	}
	if !set {
		v.errorf(field, "`from.source` must not be empty")
	}
	return tcp
}

// operation checks one to[].operation and reports whether it has a field that works on TCP.
func (v *apValidator) operation(field string, o *securityv1beta1.Operation, deny bool) bool {
	if o == nil {
		v.errorf(field, "`to.operation` must not be nil")
		return false
	}
	checkPort := func(s string) error { _, err := ParseAuthzPort(s); return err }
	lists := []authzList{
		{"hosts", o.GetHosts(), nil, true}, {"notHosts", o.GetNotHosts(), nil, true},
		{"ports", o.GetPorts(), checkPort, false}, {"notPorts", o.GetNotPorts(), checkPort, false},
		{"methods", o.GetMethods(), nil, true}, {"notMethods", o.GetNotMethods(), nil, true},
		{"paths", o.GetPaths(), CheckPathTemplate, true}, {"notPaths", o.GetNotPaths(), CheckPathTemplate, true},
	}
	set := false
	for _, l := range lists {
		set = set || len(l.values) > 0
		v.values(field, l)
	}
	if deny {
		for i, h := range o.GetHosts() {
			if h != "" && AuthzHostWithoutPort(h, o.GetHosts()) {
				v.warnf(fieldPath(field, "hosts", i), "%s", AuthzHostWithoutPortReason(h))
			}
		}
	}
	for i, h := range o.GetNotHosts() {
		if h != "" && AuthzHostWithoutPort(h, o.GetNotHosts()) {
			v.warnf(fieldPath(field, "notHosts", i), "%s", AuthzHostWithoutPortReason(h))
		}
	}
	if !set {
		v.errorf(field, "`to.operation` must not be empty")
	}
	return len(o.GetPorts())+len(o.GetNotPorts()) > 0
}

// list checks every value of one field: non-empty, the field's own check, and the wildcard
// warning for string fields.
func (v *apValidator) values(field string, l authzList) {
	for i, s := range l.values {
		f := fieldPath(field, l.name, i)
		switch {
		case s == "":
			v.errorf(fieldPath(field, l.name), "empty value not allowed, found in %s", upperFirst(l.name))
			return
		case l.check != nil && l.check(s) != nil:
			v.errorf(f, "%v", l.check(s))
		case l.wild && AuthzMidWildcard(s):
			v.warnf(f, "%s", AuthzMidWildcardReason(s))
		}
	}
}

func (v *apValidator) condition(field string, c *securityv1beta1.Condition, custom bool) {
	if c == nil {
		v.errorf(field, "when field cannot be nil")
		return
	}
	key := c.GetKey()
	if err := AuthzConditionKeyError(key); err != nil {
		v.errorf(fieldPath(field, "key"), "%v", err)
		return
	}
	if len(c.GetValues()) == 0 && len(c.GetNotValues()) == 0 {
		v.errorf(field, "at least one of `values` or `notValues` must be set for key %s", key)
	}
	if custom && (strings.HasPrefix(key, "request.auth.") || strings.HasPrefix(key, "source.") && key != "source.ip") {
		v.errorf(fieldPath(field, "key"), "%s is currently not supported with CUSTOM action", key)
	}
	var check func(string) error
	switch key {
	case "source.ip", "remote.ip", "destination.ip":
		check = checkAuthzIP
	case "destination.port":
		check = func(s string) error { _, err := ParseAuthzPort(s); return err }
	case "source.serviceAccount":
		check = CheckAuthzServiceAccount
	case "source.trustDomain":
		check = CheckAuthzTrustDomain
	}
	v.values(field, authzList{"values", c.GetValues(), check, check == nil})
	v.values(field, authzList{"notValues", c.GetNotValues(), check, check == nil})
}

func checkAuthzIP(s string) error { _, err := ParseAuthzIP(s); return err }

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

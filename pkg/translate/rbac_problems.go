package translate

import (
	"strconv"

	securityv1beta1 "istio.io/api/security/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// authzPath joins field path elements: authzPath("spec.rules", 2, "from") = "spec.rules[2].from".
// It runs for every translated field, so it sizes its buffer once.
func authzPath(parts ...any) string {
	n := 0
	for _, p := range parts {
		switch x := p.(type) {
		case int:
			n += 6
		case string:
			n += len(x) + 1
		}
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		switch x := p.(type) {
		case int:
			b = append(strconv.AppendInt(append(b, '['), int64(x), 10), ']')
		case string:
			if len(b) > 0 {
				b = append(b, '.')
			}
			b = append(b, x...)
		}
	}
	return string(b)
}

// fail records a part that cannot be translated and is dropped; the reason says how the rule
// then fails closed for its action (SEMANTICS.md §4.9).
func (b *ruleBuilder) fail(field, why string) {
	b.dropped = true
	var outcome string
	switch b.action {
	case securityv1beta1.AuthorizationPolicy_ALLOW:
		outcome = "the ALLOW rule matches nothing"
	case securityv1beta1.AuthorizationPolicy_CUSTOM:
		outcome = "the CUSTOM rule denies what it matches without this condition"
	default:
		outcome = "ignored, so the " + b.action.String() + " rule applies more widely"
	}
	b.problems = append(b.problems, model.ProblemFor(b.meta, model.SeverityError, field, "%s: %s", why, outcome))
}

// dropOnTCP records an HTTP-only attribute left out of a TCP chain (SEMANTICS.md §4.6).
func (b *ruleBuilder) dropOnTCP(field string) {
	b.dropped = true
	var outcome string
	switch b.action {
	case securityv1beta1.AuthorizationPolicy_ALLOW:
		outcome = "the ALLOW rule matches no TCP connection"
	case securityv1beta1.AuthorizationPolicy_CUSTOM:
		outcome = "the CUSTOM rule denies TCP connections it matches without this field"
	default:
		outcome = "ignored on TCP ports, so the " + b.action.String() + " rule applies to more TCP connections"
	}
	b.warn(field, "HTTP-only attribute on a TCP port: "+outcome)
}

func (b *ruleBuilder) warn(field, reason string) {
	b.problems = append(b.problems, model.ProblemFor(b.meta, model.SeverityWarning, field, "%s", reason))
}

// warnHostsWithoutPort flags DENY hosts and any notHosts value that misses host:port requests.
func (b *ruleBuilder) warnHostsWithoutPort(field string, o *securityv1beta1.Operation) {
	if b.tcp {
		return
	}
	if b.action == securityv1beta1.AuthorizationPolicy_DENY {
		for i, h := range o.GetHosts() {
			if h != "" && model.AuthzHostWithoutPort(h, o.GetHosts()) {
				b.warn(authzPath(field, "hosts", i), model.AuthzHostWithoutPortReason(h))
			}
		}
	}
	for i, h := range o.GetNotHosts() {
		if h != "" && model.AuthzHostWithoutPort(h, o.GetNotHosts()) {
			b.warn(authzPath(field, "notHosts", i), model.AuthzHostWithoutPortReason(h))
		}
	}
}

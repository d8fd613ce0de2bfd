package model

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	securityv1beta1 "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"
)

// validateRequestAuthentication applies Istio's admission checks for RequestAuthentication
// (pkg/config/validation ValidateRequestAuthentication and the CRD's schema rules;
// SEMANTICS.md §1, §2.1). Checks that depend on the proxy, such as two rules sharing an issuer
// on one workload, are translation warnings instead.
func validateRequestAuthentication(ra *RequestAuthentication) []Problem {
	ps := &problems{meta: &ra.Meta}
	spec := ra.Spec
	validatePolicyTargets(ps, spec.GetSelector(), spec.GetTargetRef(), spec.GetTargetRefs())
	if n := len(spec.GetJwtRules()); n > 4096 {
		ps.errorf("spec.jwtRules", "may not have more than 4096 items, got %d", n)
	}
	for i, r := range spec.GetJwtRules() {
		validateJWTRule(ps, fieldPath("spec.jwtRules", i), r)
	}
	return ps.list
}

// validatePolicyTargets checks selector vs targetRef(s) (CRD CEL rule; at most 16 targetRefs)
// and what each targetRef may name. Only Gateway API Gateways select a proxy here, so a
// Service or ServiceEntry target (ambient waypoints) is accepted but reaches nothing.
func validatePolicyTargets(ps *problems, sel *typev1beta1.WorkloadSelector, ref *typev1beta1.PolicyTargetReference, refs []*typev1beta1.PolicyTargetReference) {
	switch {
	case ref != nil && len(refs) > 0:
		ps.errorf("spec.targetRef", "only one of targetRef or targetRefs can be set")
	case sel != nil && (ref != nil || len(refs) > 0):
		ps.errorf("spec.selector", "only one of targetRefs or selector can be set")
	}
	if len(refs) > 16 {
		ps.errorf("spec.targetRefs", "may not have more than 16 items, got %d", len(refs))
	}
	if sel != nil {
		checkSelectorLabels(ps, "spec.selector.matchLabels", sel.GetMatchLabels())
		if len(sel.GetMatchLabels()) == 0 {
			ps.warnf("spec.selector", "workload selector specified without labels: it selects every workload")
		}
	}
	check := func(field string, r *typev1beta1.PolicyTargetReference) {
		if r.GetName() == "" {
			ps.errorf(field+".name", "targetRef name must be set")
		}
		if r.GetNamespace() != "" {
			ps.errorf(field+".namespace", "must not be set: cross namespace referencing is not supported")
		}
		switch gk := r.GetGroup() + "/" + r.GetKind(); gk {
		case gatewayAPIGroup + "/Gateway":
		case "/Service", "core/Service", "networking.istio.io/ServiceEntry", gatewayAPIGroup + "/GatewayClass":
			ps.warnf(field, "targetRef %s is accepted but only Gateway API Gateways select a proxy here: the policy applies to no proxy through it", gk)
		default:
			ps.errorf(field, "targetRef must be to a Gateway (%s), GatewayClass, Service or ServiceEntry, got %s", gatewayAPIGroup, gk)
		}
	}
	if ref != nil {
		check("spec.targetRef", ref)
	}
	for i, r := range refs {
		check(fieldPath("spec.targetRefs", i), r)
	}
}

func validateJWTRule(ps *problems, field string, r *securityv1beta1.JWTRule) {
	if r.GetIssuer() == "" && r.GetJwksUri() == "" {
		ps.errorf(field, "issuer or jwksUri must be non-empty string")
	}
	for i, a := range r.GetAudiences() {
		if a == "" {
			ps.errorf(fieldPath(field+".audiences", i), "audience must be non-empty string")
		}
	}
	if u := r.GetJwksUri(); u != "" {
		ps.check(field+".jwksUri", checkJWKSURI(u))
	}
	if r.GetJwks() != "" {
		if r.GetJwksUri() != "" {
			ps.errorf(field, "only one of jwks or jwksUri can be set")
		}
		validateInlineJWKS(ps, field+".jwks", r.GetJwks())
	}
	for i, h := range r.GetFromHeaders() {
		switch {
		case h.GetName() == "":
			ps.errorf(fieldPath(field+".fromHeaders", i, "name"), "location header name must be non-empty string")
		case !isHTTPToken(h.GetName()):
			// Envoy's JwtHeader.name must be an HTTP header name; Envoy would NACK the listener.
			ps.errorf(fieldPath(field+".fromHeaders", i, "name"), "%q is not a valid HTTP header name (RFC 9110 token)", h.GetName())
		}
	}
	for i, q := range r.GetFromParams() {
		if q == "" {
			ps.errorf(fieldPath(field+".fromParams", i), "location query must be non-empty string")
		}
	}
	for i, c := range r.GetFromCookies() {
		if c == "" {
			ps.errorf(fieldPath(field+".fromCookies", i), "cookie name must be non-empty string")
		}
	}
	for i, c := range r.GetOutputClaimToHeaders() {
		f := fieldPath(field+".outputClaimToHeaders", i)
		switch {
		case c.GetHeader() == "" || c.GetClaim() == "":
			ps.errorf(f, "outputClaimToHeaders header and claim value must be non-empty string")
		case !isHeaderToken(c.GetHeader()):
			ps.errorf(f+".header", "%q is not a valid header name: want letters, digits, '-' and '_'", c.GetHeader())
		}
	}
	if h := r.GetOutputPayloadToHeader(); h != "" && !isHeaderToken(h) {
		ps.errorf(field+".outputPayloadToHeader", "%q is not a valid header name: want letters, digits, '-' and '_'", h)
	}
	if t := r.GetTimeout(); t != nil {
		switch d := t.AsDuration(); {
		case !t.IsValid() || d < time.Millisecond:
			ps.errorf(field+".timeout", "duration must be greater than 1ms")
		case d%time.Millisecond != 0:
			ps.errorf(field+".timeout", "only durations to ms precision are supported")
		}
	}
	validateSpaceDelimitedClaims(ps, field+".spaceDelimitedClaims", r.GetSpaceDelimitedClaims())
}

func validateSpaceDelimitedClaims(ps *problems, field string, claims []string) {
	if len(claims) > 64 {
		ps.errorf(field, "may not have more than 64 items, got %d", len(claims))
	}
	for i, c := range claims {
		if c == "" {
			ps.errorf(fieldPath(field, i), "claim name must be non-empty string")
		}
	}
}

// checkJWKSURI accepts what Istio's ParseJwksURI accepts: an absolute http(s) URL with a host
// (CRD maxLength 2048).
func checkJWKSURI(s string) error {
	if len(s) > 2048 {
		return fmt.Errorf("must be at most 2048 characters, got %d", len(s))
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URI: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URI scheme %q is not supported: want http or https", u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("URI %q has no host", s)
	}
	return nil
}

// validateInlineJWKS requires a JSON key set whose keys each have a kty, and warns about
// private material: Envoy only needs public keys, and whatever is inlined is visible in every
// proxy's config dump. Translation strips it.
func validateInlineJWKS(ps *problems, field, raw string) {
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(raw), &set); err != nil {
		ps.errorf(field, "jwks parse error: %v", err)
		return
	}
	if set.Keys == nil {
		ps.errorf(field, "jwks parse error: want a JSON object with a keys array")
		return
	}
	for i, k := range set.Keys {
		kty, _ := k["kty"].(string)
		if kty == "" {
			ps.errorf(fieldPath(field+".keys", i), "jwks parse error: key has no kty")
			continue
		}
		private := kty == "oct" || slices.ContainsFunc([]string{"d", "p", "q", "dp", "dq", "qi", "oth"}, func(m string) bool {
			_, ok := k[m]
			return ok
		})
		if private {
			ps.warnf(fieldPath(field+".keys", i), "jwks key contains private key material; only public keys are used for verification and private members are not sent to proxies")
		}
	}
}

// isHeaderToken is the CRD pattern for header names: ^[-_A-Za-z0-9]+$.
func isHeaderToken(s string) bool {
	for _, c := range s {
		if !(c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// isHTTPToken reports whether s is an RFC 9110 token, the syntax of a header field name.
func isHTTPToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", c):
		default:
			return false
		}
	}
	return true
}

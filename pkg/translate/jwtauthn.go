package translate

import (
	"cmp"
	"fmt"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	securityv1beta1 "istio.io/api/security/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

const (
	jwtAuthnFilterName = "envoy.filters.http.jwt_authn"
	// jwtPayloadKey is where Envoy writes the verified payload in the filter's dynamic metadata;
	// RBAC claim matchers read it there (SEMANTICS.md §3.1).
	jwtPayloadKey = "payload"
)

// jwtRule is one JWT rule that applies to the proxy, with where it came from.
type jwtRule struct {
	policy *model.RequestAuthentication
	field  string // "spec.jwtRules[1]"
	rule   *securityv1beta1.JWTRule
}

// applicableJWTRules returns every JWT rule of the RequestAuthentications selecting the proxy,
// stably sorted by issuer: the index in this list names the provider (SEMANTICS.md §1.1, §2.1).
func applicableJWTRules(in Inputs) []jwtRule {
	if in.Store == nil {
		return nil
	}
	var rules []jwtRule
	for _, ra := range model.PoliciesFor(in.Store.RequestAuthentications, in.Proxy, in.Store.Mesh) {
		for i, r := range ra.Spec.GetJwtRules() {
			rules = append(rules, jwtRule{policy: ra, field: fmt.Sprintf("spec.jwtRules[%d]", i), rule: r})
		}
	}
	slices.SortStableFunc(rules, func(a, b jwtRule) int { return cmp.Compare(a.rule.GetIssuer(), b.rule.GetIssuer()) })
	return rules
}

// jwtAuthnFilters builds envoy.filters.http.jwt_authn from the RequestAuthentications that
// select the proxy; no rule means no filter.
func jwtAuthnFilters(in Inputs) ([]*hcmv3.HttpFilter, []model.Problem) {
	cfg, problems := jwtAuthn(in)
	if cfg == nil {
		return nil, problems
	}
	return []*hcmv3.HttpFilter{{
		Name:       jwtAuthnFilterName,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(cfg)},
	}}, problems
}

// jwtAuthn builds the filter config: one provider "origins-<i>" per applicable rule and one
// requirement for every path (SEMANTICS.md §2.3). CORS preflights carry no credentials, so they
// bypass verification as in Istio.
func jwtAuthn(in Inputs) (*jwtauthnv3.JwtAuthentication, []model.Problem) {
	rules := applicableJWTRules(in)
	if len(rules) == 0 {
		return nil, nil
	}
	cfg := &jwtauthnv3.JwtAuthentication{
		Providers:           make(map[string]*jwtauthnv3.JwtProvider, len(rules)),
		BypassCorsPreflight: true,
	}
	var problems []model.Problem
	names := make([]string, len(rules))
	providers := make([]*jwtauthnv3.JwtProvider, len(rules))
	for i, r := range rules {
		p, ps := jwtProvider(in, r)
		names[i] = fmt.Sprintf("origins-%d", i)
		providers[i] = p
		cfg.Providers[names[i]] = p
		problems = append(problems, ps...)
	}
	problems = append(problems, duplicateIssuers(rules, providers)...)
	cfg.Rules = []*jwtauthnv3.RequirementRule{{
		Match:           &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		RequirementType: &jwtauthnv3.RequirementRule_Requires{Requires: jwtRequirement(names)},
	}}
	return cfg, problems
}

// jwtProvider maps one JWTRule to a JwtProvider field by field (SEMANTICS.md §2.1).
func jwtProvider(in Inputs, r jwtRule) (*jwtauthnv3.JwtProvider, []model.Problem) {
	keys, problems := ruleKeys(in, r.policy, r.field, r.rule)
	p := &jwtauthnv3.JwtProvider{
		Issuer:                     r.rule.GetIssuer(),
		Audiences:                  slices.Clone(r.rule.GetAudiences()),
		JwksSourceSpecifier:        localJWKS(keys),
		Forward:                    r.rule.GetForwardOriginalToken(),
		FromParams:                 slices.Clone(r.rule.GetFromParams()),
		FromCookies:                slices.Clone(r.rule.GetFromCookies()),
		ForwardPayloadHeader:       r.rule.GetOutputPayloadToHeader(),
		PayloadInMetadata:          jwtPayloadKey,
		NormalizePayloadInMetadata: &jwtauthnv3.JwtProvider_NormalizePayload{SpaceDelimitedClaims: spaceDelimitedClaims(r.rule)},
	}
	// Entries with a name no client could send are dropped (Istio's validation rejects them):
	// keeping them would put a header Envoy cannot represent into the config.
	bad := func(field, format string, args ...any) {
		problems = append(problems, model.ProblemFor(&r.policy.Meta, model.SeverityError, field, format, args...))
	}
	if h := p.ForwardPayloadHeader; h != "" && !validHeaderName(h) {
		bad(r.field+".outputPayloadToHeader", "%q is not a valid header name ([-_A-Za-z0-9]+): not forwarded", h)
		p.ForwardPayloadHeader = ""
	}
	for i, h := range r.rule.GetFromHeaders() {
		if !validHeaderName(h.GetName()) {
			bad(fmt.Sprintf("%s.fromHeaders[%d].name", r.field, i), "%q is not a valid header name ([-_A-Za-z0-9]+): location ignored", h.GetName())
			continue
		}
		p.FromHeaders = append(p.FromHeaders, &jwtauthnv3.JwtHeader{Name: h.GetName(), ValuePrefix: h.GetPrefix()})
	}
	for i, c := range r.rule.GetOutputClaimToHeaders() {
		if !validHeaderName(c.GetHeader()) || c.GetClaim() == "" {
			bad(fmt.Sprintf("%s.outputClaimToHeaders[%d]", r.field, i),
				"header must be a valid header name ([-_A-Za-z0-9]+) and claim non-empty, got %q and %q: not copied", c.GetHeader(), c.GetClaim())
			continue
		}
		p.ClaimToHeaders = append(p.ClaimToHeaders, &jwtauthnv3.JwtClaimToHeader{HeaderName: c.GetHeader(), ClaimName: c.GetClaim()})
	}
	if err := p.ValidateAll(); err != nil {
		// Envoy would NACK the whole listener. A provider that rejects every token of the
		// issuer keeps the rest of the config serving without letting such tokens through.
		problems = append(problems, model.ProblemFor(&r.policy.Meta, model.SeverityError, r.field,
			"cannot be translated (%v): tokens of this rule are rejected", err))
		p = &jwtauthnv3.JwtProvider{
			Issuer:                     r.rule.GetIssuer(),
			JwksSourceSpecifier:        localJWKS(unfetchedJWKS),
			PayloadInMetadata:          jwtPayloadKey,
			NormalizePayloadInMetadata: &jwtauthnv3.JwtProvider_NormalizePayload{SpaceDelimitedClaims: spaceDelimitedClaims(nil)},
		}
	}
	return p, problems
}

// validHeaderName is the CRD pattern for header names Istio emits: ^[-_A-Za-z0-9]+$.
func validHeaderName(s string) bool {
	for _, c := range s {
		if !(c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

func localJWKS(keys string) *jwtauthnv3.JwtProvider_LocalJwks {
	return &jwtauthnv3.JwtProvider_LocalJwks{LocalJwks: &corev3.DataSource{
		Specifier: &corev3.DataSource_InlineString{InlineString: keys},
	}}
}

// spaceDelimitedClaims is the sorted set {permission, scope} ∪ spaceDelimitedClaims: Envoy
// then stores "scope": "a b" as ["a","b"] so claim matchers see single values (SEMANTICS.md §3.1).
func spaceDelimitedClaims(r *securityv1beta1.JWTRule) []string {
	out := append([]string{"permission", "scope"}, r.GetSpaceDelimitedClaims()...)
	slices.Sort(out)
	return slices.Compact(out)
}

// jwtRequirement reproduces Istio's semantics (no token passes, any invalid token fails, a
// valid token of any rule passes) with upstream Envoy: requires_any over each provider plus
// requires_all of any{p, allow_missing}. The outer per-provider branches accept a valid token
// of p_j that sits where p_i also looks, which the AND branch alone would reject as
// "issuer not configured" for p_i (SEMANTICS.md §2.3).
func jwtRequirement(names []string) *jwtauthnv3.JwtRequirement {
	if len(names) == 1 {
		return requiresAny(providerRequirement(names[0]), allowMissing())
	}
	branches := make([]*jwtauthnv3.JwtRequirement, 0, len(names)+1)
	optional := make([]*jwtauthnv3.JwtRequirement, 0, len(names))
	for _, n := range names {
		branches = append(branches, providerRequirement(n))
		optional = append(optional, requiresAny(providerRequirement(n), allowMissing()))
	}
	branches = append(branches, &jwtauthnv3.JwtRequirement{RequiresType: &jwtauthnv3.JwtRequirement_RequiresAll{
		RequiresAll: &jwtauthnv3.JwtRequirementAndList{Requirements: optional},
	}})
	return requiresAny(branches...)
}

func requiresAny(reqs ...*jwtauthnv3.JwtRequirement) *jwtauthnv3.JwtRequirement {
	return &jwtauthnv3.JwtRequirement{RequiresType: &jwtauthnv3.JwtRequirement_RequiresAny{
		RequiresAny: &jwtauthnv3.JwtRequirementOrList{Requirements: reqs},
	}}
}

func providerRequirement(name string) *jwtauthnv3.JwtRequirement {
	return &jwtauthnv3.JwtRequirement{RequiresType: &jwtauthnv3.JwtRequirement_ProviderName{ProviderName: name}}
}

func allowMissing() *jwtauthnv3.JwtRequirement {
	return &jwtauthnv3.JwtRequirement{RequiresType: &jwtauthnv3.JwtRequirement_AllowMissing{AllowMissing: &emptypb.Empty{}}}
}

// duplicateIssuers warns when two applicable rules share an issuer with different settings:
// like Istio (istio/istio#19245) both providers stay, so a token passes if either accepts it,
// which is rarely what the authors of the two rules meant (SEMANTICS.md §2.3, D8).
func duplicateIssuers(rules []jwtRule, providers []*jwtauthnv3.JwtProvider) []model.Problem {
	var problems []model.Problem
	for i := 1; i < len(rules); i++ {
		for j := i - 1; j >= 0 && rules[j].rule.GetIssuer() == rules[i].rule.GetIssuer(); j-- {
			if rules[i].rule.GetIssuer() == "" || proto.Equal(providers[i], providers[j]) {
				continue
			}
			problems = append(problems, model.ProblemFor(&rules[i].policy.Meta, model.SeverityWarning, rules[i].field+".issuer",
				"issuer %q is also configured with different settings by RequestAuthentication %s %s: a token passes if either rule accepts it",
				rules[i].rule.GetIssuer(), rules[j].policy.Key(), rules[j].field))
			break
		}
	}
	return problems
}

// jwtKeySources lists the JWKS sources (model.JWKSSource) the proxy's jwt_authn config inlines
// or would inline once fetched, sorted and without repeats, for Resources.KeySources.
func jwtKeySources(in Inputs) []string {
	var out []string
	for _, r := range applicableJWTRules(in) {
		if r.rule.GetJwks() != "" || (r.rule.GetJwksUri() == "" && r.rule.GetIssuer() == "") {
			continue
		}
		out = append(out, model.JWKSSource(r.rule.GetJwksUri(), r.rule.GetIssuer()))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

package explain

import (
	"encoding/base64"
	"fmt"
	"maps"
	"strconv"
	"strings"

	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
)

// defaultClockSkew is Envoy's clock_skew_seconds when the provider leaves it 0.
const defaultClockSkew = 60

// evaluator walks a requirement the way Envoy's verifier tree does (jwt_authn/verifier.cc).
// With local key sets every step is synchronous, so a depth-first walk in child order is
// exactly Envoy's completion order.
type evaluator struct {
	cfg   *jwtauthnv3.JwtAuthentication
	names []string         // provider names, sorted: the order issuer lookups use
	keys  map[string][]jwk // usable keys by provider name; nil = none
	now   uint64
	st    *state
}

// authOptions configures one authenticator: a named provider, or (provider empty) whatever
// provider the token's issuer selects, as allow_missing and allow_missing_or_failed use.
type authOptions struct {
	provider                  string
	audiences                 []string // provider_and_audiences override; nil = the provider's
	allowFailed, allowMissing bool
	x                         *extractor
}

func (e *evaluator) requirement(r *jwtauthnv3.JwtRequirement, siblings []string) (Status, error) {
	switch t := r.GetRequiresType().(type) {
	case nil:
		return StatusOK, nil
	case *jwtauthnv3.JwtRequirement_ProviderName:
		return e.provider(t.ProviderName, nil)
	case *jwtauthnv3.JwtRequirement_ProviderAndAudiences:
		return e.provider(t.ProviderAndAudiences.GetProviderName(), t.ProviderAndAudiences.GetAudiences())
	case *jwtauthnv3.JwtRequirement_RequiresAny:
		return e.requiresAny(t.RequiresAny.GetRequirements())
	case *jwtauthnv3.JwtRequirement_RequiresAll:
		for _, c := range t.RequiresAll.GetRequirements() {
			// Children of an AND get no sibling providers: an allow_missing there finds no token.
			if st, err := e.requirement(c, nil); err != nil || st != StatusOK {
				return st, err
			}
		}
		return StatusOK, nil
	case *jwtauthnv3.JwtRequirement_AllowMissing:
		return e.bypass(siblings, false)
	case *jwtauthnv3.JwtRequirement_AllowMissingOrFailed:
		return e.bypass(siblings, true)
	default:
		return 0, fmt.Errorf("requirement %T is not supported", t)
	}
}

// requiresAny runs the regular children in order, then one bypass (allow_missing_or_failed
// wins over allow_missing) searching the locations of the providers named directly in the
// list. The first OK completes the list; if none, the last child's status is the result.
func (e *evaluator) requiresAny(reqs []*jwtauthnv3.JwtRequirement) (Status, error) {
	var bypass *jwtauthnv3.JwtRequirement
	var used []string
	last := StatusOK
	for _, r := range reqs {
		switch t := r.GetRequiresType().(type) {
		case *jwtauthnv3.JwtRequirement_AllowMissingOrFailed:
			bypass = r
			continue
		case *jwtauthnv3.JwtRequirement_AllowMissing:
			if bypass == nil {
				bypass = r
			}
			continue
		case *jwtauthnv3.JwtRequirement_ProviderName:
			used = append(used, t.ProviderName)
		case *jwtauthnv3.JwtRequirement_ProviderAndAudiences:
			used = append(used, t.ProviderAndAudiences.GetProviderName())
		}
		st, err := e.requirement(r, nil)
		if err != nil || st == StatusOK {
			return st, err
		}
		last = st
	}
	if bypass != nil {
		return e.requirement(bypass, used)
	}
	return last, nil
}

func (e *evaluator) provider(name string, audiences []string) (Status, error) {
	p, ok := e.cfg.GetProviders()[name]
	if !ok {
		return 0, fmt.Errorf("required provider %q is not configured", name)
	}
	return e.authenticate(authOptions{provider: name, audiences: audiences, x: newExtractor([]*jwtauthnv3.JwtProvider{p})})
}

func (e *evaluator) bypass(siblings []string, allowFailed bool) (Status, error) {
	var ps []*jwtauthnv3.JwtProvider
	for _, n := range siblings {
		p, ok := e.cfg.GetProviders()[n]
		if !ok {
			return 0, fmt.Errorf("required provider %q is not configured", n)
		}
		ps = append(ps, p)
	}
	return e.authenticate(authOptions{allowFailed: allowFailed, allowMissing: true, x: newExtractor(ps)})
}

// authenticate is Envoy's AuthenticatorImpl: every extracted token is checked, last first;
// unless failures are allowed the first failure ends it. With allow_missing a missing token
// passes, and so does nothing else.
func (e *evaluator) authenticate(o authOptions) (Status, error) {
	o.x.sanitizeHeaders(e.st)
	tokens := o.x.extract(e.st)
	status := StatusJwtMissed
	for len(tokens) > 0 {
		cur := tokens[len(tokens)-1]
		tokens = tokens[:len(tokens)-1]
		status = e.verifyToken(o, cur)
		if status != StatusOK && !o.allowFailed && !o.allowMissing {
			break
		}
	}
	switch {
	case o.allowFailed:
		return StatusOK, nil
	case o.allowMissing && status == StatusJwtMissed:
		return StatusOK, nil
	}
	return status, nil
}

func (e *evaluator) verifyToken(o authOptions, cur extracted) Status {
	t, st := parseToken(cur.token)
	if st != StatusOK {
		return st
	}
	if !cur.loc.checker.allows(t.iss) {
		return StatusJwtUnknownIssuer
	}
	name := o.provider
	if name == "" {
		name = e.providerForIssuer(t.iss)
	}
	p := e.cfg.GetProviders()[name]
	if p == nil {
		return StatusJwtUnknownIssuer
	}
	skew := uint64(p.GetClockSkewSeconds())
	if skew == 0 {
		skew = defaultClockSkew
	}
	if e.now+skew < t.nbf {
		return StatusJwtNotYetValid
	}
	if t.exp != 0 && e.now > t.exp+skew {
		return StatusJwtExpired
	}
	audiences := p.GetAudiences()
	if o.audiences != nil {
		audiences = o.audiences
	}
	if !audiencesAllowed(audiences, t.audiences) {
		return StatusJwtAudienceNotAllowed
	}
	keys := e.keys[name]
	if keys == nil {
		return StatusJwksNoValidKeys
	}
	if st := verifySignature(t, keys); st != StatusOK {
		return st
	}
	e.accept(p, t, cur)
	return StatusOK
}

// providerForIssuer is JwksCache::findByIssuer: the first provider with that issuer, else the
// first without one. Envoy's order among duplicates is its hash map's; ours is by name.
func (e *evaluator) providerForIssuer(iss string) string {
	fallback := ""
	for _, n := range e.names {
		switch e.cfg.GetProviders()[n].GetIssuer() {
		case iss:
			return n
		case "":
			if fallback == "" {
				fallback = n
			}
		}
	}
	return fallback
}

// accept applies a verified token's effects (handleGoodJwt): payload and claim headers, token
// removal unless forwarded, and the payload for dynamic metadata once the whole requirement
// passes.
func (e *evaluator) accept(p *jwtauthnv3.JwtProvider, t *token, cur extracted) {
	if h := p.GetForwardPayloadHeader(); h != "" {
		v := t.payloadB64
		if p.GetPadForwardPayloadHeader() {
			v = base64.URLEncoding.EncodeToString(mustB64(v))
		}
		e.st.addHeader(h, v)
	}
	for _, c := range p.GetClaimToHeaders() {
		if v, ok := claimHeaderValue(t.payload, c.GetClaimName()); ok {
			e.st.addHeader(c.GetHeaderName(), v)
		}
	}
	if !p.GetForward() {
		cur.remove(e.st)
	}
	if key := p.GetPayloadInMetadata(); key != "" {
		e.st.pending[key] = normalizePayload(t.payload, p.GetNormalizePayloadInMetadata().GetSpaceDelimitedClaims())
	}
}

func mustB64(s string) []byte {
	b, _ := b64(s)
	return b
}

// claimHeaderValue renders a string, number or bool claim as Envoy does; other kinds and
// empty strings add no header.
func claimHeaderValue(payload map[string]any, name string) (string, bool) {
	v, st := claim(payload, name)
	if st != found {
		return "", false
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case bool:
		s = strconv.FormatBool(x)
	case float64:
		if x >= 0 && x < 1<<64 && x == float64(uint64(x)) {
			s = strconv.FormatUint(uint64(x), 10)
		} else {
			s = strconv.FormatFloat(x, 'f', 6, 64) // C++ std::to_string(double)
		}
	}
	return s, s != ""
}

// normalizePayload splits the listed top-level string claims on spaces, so "scope": "a b"
// becomes ["a","b"] in metadata.
func normalizePayload(payload map[string]any, spaceDelimited []string) map[string]any {
	out := maps.Clone(payload) // shallow: only top-level string claims are replaced
	for _, c := range spaceDelimited {
		s, ok := out[c].(string)
		if !ok {
			continue
		}
		list := []any{}
		for _, part := range strings.Split(s, " ") {
			if part != "" {
				list = append(list, part)
			}
		}
		out[c] = list
	}
	return out
}

// audiencesAllowed is jwt_verify_lib's CheckAudience: no configured audience allows all;
// otherwise one token audience must match after dropping an http(s):// scheme and one
// trailing slash on both sides.
func audiencesAllowed(configured, got []string) bool {
	if len(configured) == 0 {
		return true
	}
	allowed := map[string]bool{}
	for _, a := range configured {
		allowed[sanitizeAudience(a)] = true
	}
	for _, a := range got {
		if allowed[sanitizeAudience(a)] {
			return true
		}
	}
	return false
}

func sanitizeAudience(a string) string {
	if strings.HasPrefix(a, "http://") {
		a = a[len("http://"):]
	} else if strings.HasPrefix(a, "https://") {
		a = a[len("https://"):]
	}
	return strings.TrimSuffix(a, "/")
}

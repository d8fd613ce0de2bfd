package explain

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
)

// Request is what the jwt_authn filter sees of an HTTP request.
type Request struct {
	Method string
	Scheme string // "http" when empty; x-forwarded-proto wins, as in Envoy
	Host   string
	Path   string // without the query string; "/" when empty
	Query  map[string][]string
	// Headers are matched case-insensitively. Cookies are given parsed, not as a header.
	Headers map[string][]string
	Cookies map[string]string
	// Now is the verification time; tokens are checked against it with the provider's skew.
	// The zero time means time.Now.
	Now time.Time
}

// Result is what Envoy would do with the request.
type Result struct {
	// Allowed means the request continues down the filter chain; otherwise Envoy answers with
	// Code (401, or 403 for an audience mismatch), Body and WWWAuthenticate.
	Allowed         bool
	Code            int
	Body            string
	WWWAuthenticate string
	// Status is the requirement's outcome; Bypass says why none was evaluated, if so.
	Status Status
	Bypass string
	// Metadata is the dynamic metadata written under envoy.filters.http.jwt_authn when the
	// request passes: payload_in_metadata key → verified payload (space-delimited claims
	// already split into lists).
	Metadata map[string]map[string]any
	// Headers and Query are what is sent on (lower-case header names); RemovedHeaders lists
	// the request's headers that the filter removed (verified tokens, spoofed output headers).
	Headers        map[string][]string
	Query          map[string][]string
	RemovedHeaders []string
}

// state is the request as the filter mutates it.
type state struct {
	headers map[string][]string
	query   map[string][]string
	cookies map[string]string
	pending map[string]map[string]any
}

func (s *state) addHeader(name, value string) {
	name = strings.ToLower(name)
	s.headers[name] = append(s.headers[name], value)
}

// JWT evaluates a request against a jwt_authn filter config as Envoy would with it (Envoy
// 1.29+, local key sets). It returns an error for configuration Envoy would reject or that
// this evaluator does not model (remote_jwks, filter_state_rules, header/query route matches).
func JWT(cfg *jwtauthnv3.JwtAuthentication, req Request) (Result, error) {
	if err := cfg.ValidateAll(); err != nil {
		return Result{}, fmt.Errorf("jwt_authn config: %w", err)
	}
	if req.Path == "" {
		req.Path = "/"
	}
	if req.Now.IsZero() {
		req.Now = time.Now() // as Input.now: a zero time would verify at the Unix epoch
	}
	e, err := newEvaluator(cfg, req)
	if err != nil {
		return Result{}, err
	}
	res := Result{Allowed: true, Status: StatusOK}
	switch r, err := findRequirement(cfg, req); {
	case err != nil:
		return Result{}, err
	case cfg.GetBypassCorsPreflight() && isCORSPreflight(e.st.headers, req.Method):
		res.Bypass = "CORS preflight request"
	case r == nil:
		res.Bypass = "no rule matches the request"
	default:
		if res.Status, err = e.requirement(r, nil); err != nil {
			return Result{}, err
		}
	}
	if res.Status == StatusOK {
		if len(e.st.pending) > 0 {
			res.Metadata = e.st.pending
		}
	} else {
		res.Allowed = false
		res.Code = http.StatusUnauthorized
		if res.Status == StatusJwtAudienceNotAllowed {
			res.Code = http.StatusForbidden
		}
		if !cfg.GetStripFailureResponse() {
			res.Body = res.Status.String()
		}
		res.WWWAuthenticate = wwwAuthenticate(req, e.st.headers, res.Status)
	}
	res.Headers, res.Query = e.st.headers, e.st.query
	for name := range lowerHeaders(req.Headers) {
		if _, ok := e.st.headers[name]; !ok {
			res.RemovedHeaders = append(res.RemovedHeaders, name)
		}
	}
	slices.Sort(res.RemovedHeaders)
	return res, nil
}

func newEvaluator(cfg *jwtauthnv3.JwtAuthentication, req Request) (*evaluator, error) {
	if cfg.GetFilterStateRules() != nil {
		return nil, fmt.Errorf("filter_state_rules are not supported")
	}
	e := &evaluator{
		cfg: cfg, names: slices.Sorted(maps.Keys(cfg.GetProviders())), keys: map[string][]jwk{},
		now: uint64(max(req.Now.Unix(), 0)),
		st: &state{
			headers: lowerHeaders(req.Headers), query: maps.Clone(req.Query), cookies: req.Cookies,
			pending: map[string]map[string]any{},
		},
	}
	if e.st.query == nil {
		e.st.query = map[string][]string{}
	}
	for _, name := range e.names {
		p := cfg.GetProviders()[name]
		if p.GetSubjects() != nil || p.GetRequireExpiration() || p.GetMaxLifetime() != nil {
			return nil, fmt.Errorf("provider %q: subjects, require_expiration and max_lifetime are not supported", name)
		}
		src := p.GetLocalJwks()
		if src == nil {
			return nil, fmt.Errorf("provider %q: only local_jwks is supported", name)
		}
		switch {
		case src.GetInlineString() != "":
			e.keys[name] = parseJWKS(src.GetInlineString())
		case len(src.GetInlineBytes()) > 0:
			e.keys[name] = parseJWKS(string(src.GetInlineBytes()))
		default:
			return nil, fmt.Errorf("provider %q: local_jwks must be inline", name)
		}
	}
	return e, nil
}

// findRequirement returns the requirement of the first rule matching the request, nil if none.
func findRequirement(cfg *jwtauthnv3.JwtAuthentication, req Request) (*jwtauthnv3.JwtRequirement, error) {
	for i, rule := range cfg.GetRules() {
		ok, err := routeMatches(rule.GetMatch(), req.Path)
		if err != nil {
			return nil, fmt.Errorf("rules[%d].match: %w", i, err)
		}
		if !ok {
			continue
		}
		if name := rule.GetRequirementName(); name != "" {
			r, found := cfg.GetRequirementMap()[name]
			if !found {
				return nil, fmt.Errorf("rules[%d]: requirement %q is not in requirement_map", i, name)
			}
			return r, nil
		}
		return rule.GetRequires(), nil
	}
	return nil, nil
}

// routeMatches supports the path matchers; anything else is refused rather than guessed.
func routeMatches(m *routev3.RouteMatch, path string) (bool, error) {
	if len(m.GetHeaders()) > 0 || len(m.GetQueryParameters()) > 0 || m.GetGrpc() != nil ||
		m.GetTlsContext() != nil || len(m.GetDynamicMetadata()) > 0 || m.GetRuntimeFraction() != nil ||
		len(m.GetFilterState()) > 0 || len(m.GetCookies()) > 0 {
		return false, fmt.Errorf("only path matching is supported")
	}
	return routePath(m, path)
}

// isCORSPreflight is Envoy's test: OPTIONS with non-empty Origin and
// Access-Control-Request-Method headers.
func isCORSPreflight(h map[string][]string, method string) bool {
	return method == http.MethodOptions && first(h, "origin") != "" && first(h, "access-control-request-method") != ""
}

// wwwAuthenticate is the header Envoy adds to a 401/403: the realm is the original URI
// (scheme://host/path, query dropped), and every failure but a missing token is invalid_token.
func wwwAuthenticate(req Request, h map[string][]string, st Status) string {
	scheme := first(h, "x-forwarded-proto")
	if scheme == "" {
		scheme = req.Scheme
	}
	if scheme == "" {
		scheme = "http"
	}
	host := req.Host
	if host == "" {
		host = first(h, "host")
	}
	v := `Bearer realm="` + scheme + "://" + host + req.Path + `"`
	if st != StatusJwtMissed {
		v += `, error="invalid_token"`
	}
	return v
}

func first(h map[string][]string, name string) string {
	if vs := h[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func lowerHeaders(in map[string][]string) map[string][]string {
	out := make(map[string][]string, len(in))
	for k, vs := range in {
		k = strings.ToLower(k)
		out[k] = append(out[k], vs...)
	}
	return out
}

package explain_test

import (
	"os"
	"strings"
	"testing"
	"time"

	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/plainenvoy/controlplane/pkg/explain"
)

const iss = "https://issuer.example"

// TestJWTStatuses checks one provider under Istio's requirement any{p, allow_missing}: each
// way a token can be wrong gives jwt_verify_lib's status, Envoy's code and body.
func TestJWTStatuses(t *testing.T) {
	t.Parallel()
	rs := newSigner(t, jose.RS256, "rs")
	other := newSigner(t, jose.RS256, "rs") // same kid, key not in the set
	p := provider(iss, jwks(t, rs))
	p.Audiences = []string{"https://api.example/"}
	cfg := config(anyOf(byName("p"), allowMissing()), map[string]*jwtauthnv3.JwtProvider{"p": p})
	valid := map[string]any{"iss": iss, "aud": "api.example", "sub": "alice"}
	with := func(k string, v any) map[string]any {
		c := map[string]any{"iss": iss, "aud": "api.example", "sub": "alice"}
		c[k] = v
		return c
	}
	tests := map[string]struct {
		headers  map[string][]string
		query    map[string][]string
		wantCode int // 0 = allowed
		wantBody string
	}{
		"no token passes":              {},
		"valid token passes":           {headers: bearer(rs.mint(t, valid))},
		"valid token in access_token":  {query: map[string][]string{"access_token": {rs.mint(t, valid)}}},
		"bearer prefix is required":    {headers: map[string][]string{"Authorization": {rs.mint(t, valid)}}},
		"not a jwt":                    {headers: bearer("deadbeef"), wantCode: 401, wantBody: "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"},
		"bad signature":                {headers: bearer(other.mint(t, valid)), wantCode: 401, wantBody: "Jwt verification fails"},
		"unknown kid":                  {headers: bearer(newSigner(t, jose.RS256, "nope").mint(t, valid)), wantCode: 401, wantBody: "Jwks doesn't have key to match kid or alg from Jwt"},
		"unknown issuer":               {headers: bearer(rs.mint(t, with("iss", "https://evil.example"))), wantCode: 401, wantBody: "Jwt issuer is not configured"},
		"expired beyond skew":          {headers: bearer(rs.mint(t, with("exp", now.Add(-61*time.Second).Unix()))), wantCode: 401, wantBody: "Jwt is expired"},
		"expired within skew":          {headers: bearer(rs.mint(t, with("exp", now.Add(-30*time.Second).Unix())))},
		"not yet valid beyond skew":    {headers: bearer(rs.mint(t, with("nbf", now.Add(61*time.Second).Unix()))), wantCode: 401, wantBody: "Jwt not yet valid"},
		"not yet valid within skew":    {headers: bearer(rs.mint(t, with("nbf", now.Add(59*time.Second).Unix())))},
		"audience list matches one":    {headers: bearer(rs.mint(t, with("aud", []string{"x", "http://api.example"})))},
		"wrong audience is forbidden":  {headers: bearer(rs.mint(t, with("aud", "other"))), wantCode: 403, wantBody: "Audiences in Jwt are not allowed"},
		"missing audience forbidden":   {headers: bearer(rs.mint(t, map[string]any{"iss": iss})), wantCode: 403, wantBody: "Audiences in Jwt are not allowed"},
		"alg none without signature":   {headers: bearer(unsigned(valid, "")), wantCode: 401, wantBody: "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"},
		"alg none with fake signature": {headers: bearer(unsigned(valid, "c2ln")), wantCode: 401, wantBody: "Jwt header [alg] is not supported"},
		"exp not an integer":           {headers: bearer(rs.mint(t, with("exp", "soon"))), wantCode: 401, wantBody: "Jwt payload [exp] field is not an integer"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res, err := explain.JWT(cfg, explain.Request{Method: "GET", Host: "h", Path: "/a", Headers: tc.headers, Query: tc.query, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantCode == 0 {
				if !res.Allowed {
					t.Fatalf("rejected with %d %q, want allowed", res.Code, res.Body)
				}
				return
			}
			if res.Allowed || res.Code != tc.wantCode || res.Body != tc.wantBody {
				t.Errorf("got allowed=%v %d %q, want %d %q", res.Allowed, res.Code, res.Body, tc.wantCode, tc.wantBody)
			}
			if want := `Bearer realm="http://h/a", error="invalid_token"`; res.WWWAuthenticate != want {
				t.Errorf("www-authenticate = %q, want %q", res.WWWAuthenticate, want)
			}
		})
	}
}

// TestJWTAlgorithms verifies a token of each algorithm family Envoy implements, and that a
// token is only accepted by the key that signed it.
func TestJWTAlgorithms(t *testing.T) {
	t.Parallel()
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			s, impostor := newSigner(t, alg, ""), newSigner(t, alg, "")
			cfg := config(byName("p"), map[string]*jwtauthnv3.JwtProvider{"p": provider(iss, jwks(t, s))})
			claims := map[string]any{"iss": iss, "sub": "bob"}
			res, err := explain.JWT(cfg, explain.Request{Headers: bearer(s.mint(t, claims)), Now: now})
			if err != nil || !res.Allowed {
				t.Fatalf("own token: allowed=%v %q err=%v", res.Allowed, res.Body, err)
			}
			res, err = explain.JWT(cfg, explain.Request{Headers: bearer(impostor.mint(t, claims)), Now: now})
			if err != nil || res.Allowed || res.Body != "Jwt verification fails" {
				t.Fatalf("impostor token: allowed=%v %q err=%v", res.Allowed, res.Body, err)
			}
		})
	}
}

// TestJWTEffects checks what a verified token does to the request and metadata.
func TestJWTEffects(t *testing.T) {
	t.Parallel()
	s := newSigner(t, jose.ES256, "k1")
	p := provider(iss, jwks(t, s))
	p.ForwardPayloadHeader = "x-jwt-payload"
	p.ClaimToHeaders = []*jwtauthnv3.JwtClaimToHeader{{HeaderName: "x-sub", ClaimName: "sub"}, {HeaderName: "x-team", ClaimName: "org.team"}}
	p.NormalizePayloadInMetadata = &jwtauthnv3.JwtProvider_NormalizePayload{SpaceDelimitedClaims: []string{"permission", "scope"}}
	cfg := config(anyOf(byName("p"), allowMissing()), map[string]*jwtauthnv3.JwtProvider{"p": p})
	tok := s.mint(t, map[string]any{"iss": iss, "sub": "carol", "scope": "read  write", "org": map[string]any{"team": "blue"}, "exp": 4102444800})
	res, err := explain.JWT(cfg, explain.Request{Method: "GET", Path: "/", Now: now, Headers: map[string][]string{
		"Authorization": {"Bearer " + tok}, "X-Sub": {"spoofed"}, "Accept": {"*/*"},
	}})
	if err != nil || !res.Allowed {
		t.Fatalf("allowed=%v %q err=%v", res.Allowed, res.Body, err)
	}
	wantMeta := map[string]map[string]any{"payload": {
		"iss": iss, "sub": "carol", "scope": []any{"read", "write"}, "org": map[string]any{"team": "blue"}, "exp": float64(4102444800),
	}}
	if diff := cmp.Diff(wantMeta, res.Metadata); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
	payload := strings.Split(tok, ".")[1]
	wantHeaders := map[string][]string{"accept": {"*/*"}, "x-sub": {"carol"}, "x-team": {"blue"}, "x-jwt-payload": {payload}}
	if diff := cmp.Diff(wantHeaders, res.Headers); diff != "" {
		t.Errorf("headers sent on (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"authorization"}, res.RemovedHeaders); diff != "" {
		t.Errorf("removed headers (-want +got):\n%s", diff)
	}

	p.Forward = true
	res, err = explain.JWT(cfg, explain.Request{Now: now, Query: map[string][]string{"access_token": {tok}}, Headers: bearer(tok)})
	if err != nil || !res.Allowed || len(res.RemovedHeaders) != 0 || len(res.Query["access_token"]) != 1 {
		t.Errorf("forward: allowed=%v removed=%v query=%v err=%v", res.Allowed, res.RemovedHeaders, res.Query, err)
	}
}

// TestJWTBypassAndMissing covers the paths that never look at a token, and a required
// provider with none.
func TestJWTBypassAndMissing(t *testing.T) {
	t.Parallel()
	cfg := config(byName("p"), map[string]*jwtauthnv3.JwtProvider{"p": provider(iss, jwks(t, newSigner(t, jose.RS256, "")))})
	preflight := map[string][]string{"Origin": {"https://app"}, "Access-Control-Request-Method": {"POST"}}
	res, err := explain.JWT(cfg, explain.Request{Method: "OPTIONS", Headers: preflight, Now: now})
	if err != nil || !res.Allowed || res.Bypass == "" {
		t.Errorf("preflight: %+v %v", res, err)
	}
	res, err = explain.JWT(cfg, explain.Request{Method: "GET", Host: "h", Path: "/x", Headers: preflight, Now: now})
	if err != nil || res.Allowed || res.Code != 401 || res.Body != "Jwt is missing" || res.WWWAuthenticate != `Bearer realm="http://h/x"` {
		t.Errorf("missing token: %+v %v", res, err)
	}
	cfg.Rules[0].Match.PathSpecifier = nil
	if _, err := explain.JWT(cfg, explain.Request{Now: now}); err == nil {
		t.Error("config without path specifier: want an error")
	}
}

// TestJWTSharedLocation is the case SEMANTICS.md §2.3's outer OR exists for: two providers
// share the Authorization header, and the AND of any{p_i, allow_missing} alone rejects a
// valid token of either issuer.
func TestJWTSharedLocation(t *testing.T) {
	t.Parallel()
	a, b := newSigner(t, jose.RS256, "a"), newSigner(t, jose.ES256, "b")
	providers := map[string]*jwtauthnv3.JwtProvider{"pa": provider("A", jwks(t, a)), "pb": provider("B", jwks(t, b))}
	and := allOf(anyOf(byName("pa"), allowMissing()), anyOf(byName("pb"), allowMissing()))
	tokB := b.mint(t, map[string]any{"iss": "B"})
	res, err := explain.JWT(config(and, providers), explain.Request{Headers: bearer(tokB), Now: now})
	if err != nil || res.Allowed || res.Body != "Jwt issuer is not configured" {
		t.Fatalf("AND alone: want issuer not configured, got %+v %v", res, err)
	}
	full := anyOf(byName("pa"), byName("pb"), and)
	for _, tok := range []string{tokB, a.mint(t, map[string]any{"iss": "A"})} {
		res, err := explain.JWT(config(full, providers), explain.Request{Headers: bearer(tok), Now: now})
		if err != nil || !res.Allowed {
			t.Errorf("outer OR: want allowed, got %+v %v", res, err)
		}
	}
}

// TestJWTIstioSample verifies Istio's documented demo token against its published key set.
func TestJWTIstioSample(t *testing.T) {
	t.Parallel()
	keys, err := os.ReadFile("testdata/istio-samples/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile("testdata/istio-samples/demo.jwt")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(anyOf(byName("p"), allowMissing()), map[string]*jwtauthnv3.JwtProvider{"p": provider("testing@secure.istio.io", string(keys))})
	res, err := explain.JWT(cfg, explain.Request{Headers: bearer(strings.TrimSpace(string(tok))), Now: now})
	if err != nil || !res.Allowed || res.Metadata["payload"]["foo"] != "bar" {
		t.Fatalf("demo.jwt: %+v %v", res, err)
	}
}

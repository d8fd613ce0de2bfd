package explain_test

import (
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	jose "github.com/go-jose/go-jose/v4"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/plainenvoy/controlplane/pkg/explain"
)

// TestJWTRuleMatch checks which requests a rule's path matcher selects: a selected request
// without a token is refused as missing, any other bypasses the filter.
func TestJWTRuleMatch(t *testing.T) {
	t.Parallel()
	providers := map[string]*jwtauthnv3.JwtProvider{"p": provider(iss, jwks(t, newSigner(t, jose.RS256, "")))}
	tests := map[string]struct {
		match *routev3.RouteMatch
		path  string
		want  bool
	}{
		"prefix":                  {match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/api"}}, path: "/apix", want: true},
		"prefix case":             {match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/api"}}, path: "/API"},
		"prefix case-insensitive": {match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/API"}, CaseSensitive: wrapperspb.Bool(false)}, path: "/api/x", want: true},
		"path":                    {match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/a"}}, path: "/a", want: true},
		"path is exact":           {match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/a"}}, path: "/a/"},
		"separated prefix itself": {match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/api"}}, path: "/api", want: true},
		"separated prefix child":  {match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/api"}}, path: "/api/x", want: true},
		"separated prefix other":  {match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/api"}}, path: "/apix"},
		"regex":                   {match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "/v[0-9]+/.*"}}}, path: "/v1/x", want: true},
		"regex is a full match":   {match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "/v[0-9]+/.*"}}}, path: "/x/v1/x"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := config(byName("p"), providers)
			cfg.Rules[0].Match = tc.match
			res, err := explain.JWT(cfg, explain.Request{Method: "GET", Path: tc.path, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if selected := res.Bypass == ""; selected != tc.want || selected == res.Allowed {
				t.Errorf("path %q: got %+v, want selected=%v", tc.path, res, tc.want)
			}
		})
	}
	cfg := config(byName("p"), providers)
	cfg.Rules[0].Match.Headers = []*routev3.HeaderMatcher{{Name: "x", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}}}
	if res, err := explain.JWT(cfg, explain.Request{Now: now}); err == nil {
		t.Errorf("header match: got %+v, want an error", res)
	}
}

// TestJWTZeroNow checks that a request without a verification time is verified now, not at
// the Unix epoch (where every token with nbf would be not yet valid).
func TestJWTZeroNow(t *testing.T) {
	t.Parallel()
	s := newSigner(t, jose.ES256, "k")
	cfg := config(byName("p"), map[string]*jwtauthnv3.JwtProvider{"p": provider(iss, jwks(t, s))})
	wall := time.Now()
	tok := s.Mint(t, map[string]any{"iss": iss, "nbf": wall.Add(-time.Hour).Unix(), "exp": wall.Add(time.Hour).Unix()}, wall)
	res, err := explain.JWT(cfg, explain.Request{Headers: bearer(tok)})
	if err != nil || !res.Allowed {
		t.Errorf("zero Now: got %+v, %v; want allowed", res, err)
	}
}

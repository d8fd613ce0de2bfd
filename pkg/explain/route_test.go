package explain

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestPickVirtualHost pins Envoy's domain search: exact, then the longest suffix wildcard,
// then the longest prefix wildcard, then "*"; the port is part of the authority.
func TestPickVirtualHost(t *testing.T) {
	t.Parallel()
	vh := func(name string, domains ...string) *routev3.VirtualHost {
		return &routev3.VirtualHost{Name: name, Domains: domains}
	}
	vhosts := []*routev3.VirtualHost{
		vh("catch-all", "*"),
		vh("prefix", "api.*"),
		vh("prefix-long", "api.example.*"),
		vh("suffix", "*.example.com"),
		vh("suffix-long", "*.api.example.com"),
		vh("exact", "api.example.com", "api.example.com:*"),
	}
	tests := map[string]string{
		"api.example.com":      "exact",
		"API.Example.com":      "exact",
		"api.example.com:8080": "exact", // "api.example.com:*" is a prefix wildcard, beaten by nothing longer
		"a.api.example.com":    "suffix-long",
		"www.example.com":      "suffix",
		"www.example.com:80":   "catch-all", // the port keeps it from the suffix wildcard
		"api.example.org":      "prefix-long",
		"api.other":            "prefix",
		"example.com":          "catch-all",
		"":                     "catch-all",
	}
	for host, want := range tests {
		if got := pickVirtualHost(vhosts, host); got.GetName() != want {
			t.Errorf("pickVirtualHost(%q) = %q, want %q", host, got.GetName(), want)
		}
	}
	if got := pickVirtualHost(vhosts[1:2], "api."); got != nil {
		t.Errorf("a wildcard must stand for at least one character, got %q", got.GetName())
	}
	if got := pickVirtualHost(vhosts[1:], "other.org"); got != nil {
		t.Errorf("no domain matches other.org, got %q", got.GetName())
	}
}

// TestRouteMatch pins the path specifiers, case sensitivity, and header/query matchers.
func TestRouteMatch(t *testing.T) {
	t.Parallel()
	exact := func(s string) *matcherv3.StringMatcher {
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s}}
	}
	prefix := func(p string) *routev3.RouteMatch {
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: p}}
	}
	tests := map[string]struct {
		m    *routev3.RouteMatch
		path string
		hdr  map[string][]string
		want bool
	}{
		"prefix":                   {m: prefix("/api"), path: "/api/v1", want: true},
		"prefix is not segments":   {m: prefix("/api"), path: "/apis", want: true},
		"prefix is case sensitive": {m: prefix("/API"), path: "/api", want: false},
		"prefix case insensitive": {m: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/API"},
			CaseSensitive: wrapperspb.Bool(false)}, path: "/api", want: true},
		"exact ignores the query": {m: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/ip"}}, path: "/ip?x=1", want: true},
		"exact":                   {m: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/ip"}}, path: "/ip/", want: false},
		"separated prefix": {m: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/api"}},
			path: "/apis", want: false},
		"separated prefix child": {m: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/api"}},
			path: "/api/x", want: true},
		"regex is a full match": {m: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "/status/[0-9]+"}}},
			path: "/status/200x", want: false},
		"header matches": {m: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"},
			Headers: []*routev3.HeaderMatcher{{Name: "x-user", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exact("jason")}}}},
			path: "/", hdr: map[string][]string{"x-user": {"jason"}}, want: true},
		"header missing": {m: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"},
			Headers: []*routev3.HeaderMatcher{{Name: "x-user", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exact("jason")}}}},
			path: "/", want: false},
		"query parameter": {m: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"},
			QueryParameters: []*routev3.QueryParameterMatcher{{Name: "v", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: exact("2")}}}},
			path: "/x?v=2", want: true},
		"query parameter absent": {m: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"},
			QueryParameters: []*routev3.QueryParameterMatcher{{Name: "v", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_PresentMatch{PresentMatch: true}}}},
			path: "/x", want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := &httpReq{method: "GET", path: tc.path, headers: tc.hdr}
			got, err := routeMatch(tc.m, r, false)
			if err != nil || got != tc.want {
				t.Errorf("routeMatch(%s) = %v, %v; want %v", tc.path, got, err, tc.want)
			}
		})
	}
}

func TestNormalizePath(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"/a/../admin": "/admin", "/./a/./b": "/a/b", "/..": "/", "/a/b/..": "/a/", "/a//b": "/a/b",
		"/a/../b?x=/../y": "/b?x=/../y", "/": "/",
	}
	for in, want := range tests {
		if got := normalizePath(in, true); got != want {
			t.Errorf("normalizePath(%q) = %q, want %q", in, got, want)
		}
	}
	if got := normalizePath("/a//b", false); got != "/a//b" {
		t.Errorf("without merge_slashes, got %q", got)
	}
}

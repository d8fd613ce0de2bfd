package explain

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func mustAnyTest(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func tlsInspectorConfig() proto.Message { return &tlsinspectorv3.TlsInspector{} }

func TestParsePolicyName(t *testing.T) {
	t.Parallel()
	tests := map[string]*PolicyRef{
		"ns[foo]-policy[deny-get]-rule[2]":                {Namespace: "foo", Name: "deny-get", Rule: 2},
		"istio-ext-authz-opa-ns[foo]-policy[ext]-rule[0]": {Namespace: "foo", Name: "ext", Provider: "opa"},
		"istio-ext-authz-my-opa-ns[foo]-policy[ext]-rule[1]-deny-due-to-bad-CUSTOM-action": {
			Namespace: "foo", Name: "ext", Rule: 1, Provider: "my-opa", BadCustom: true},
		"my-own-policy":             nil,
		"ns[foo]-policy[x]-rule[a]": nil,
	}
	for name, want := range tests {
		got, ok := ParsePolicyName(name)
		if ok != (want != nil) || (ok && got != *want) {
			t.Errorf("ParsePolicyName(%q) = %+v, %v; want %+v", name, got, ok, want)
		}
	}
}

// methodIs is an RBAC permission on the :method header.
func methodIs(m string) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_Header{Header: &routev3.HeaderMatcher{Name: ":method",
		HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: m}}}}}}
}

func pathPrefix(p string) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_UrlPath{UrlPath: &matcherv3.PathMatcher{Rule: &matcherv3.PathMatcher_Path{
		Path: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: p}}}}}}
}

func claimIs(key, value string) *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_Metadata{Metadata: &matcherv3.MetadataMatcher{
		Filter: jwtNamespace,
		Path:   []*matcherv3.MetadataMatcher_PathSegment{{Segment: &matcherv3.MetadataMatcher_PathSegment_Key{Key: "payload"}}, {Segment: &matcherv3.MetadataMatcher_PathSegment_Key{Key: key}}},
		Value:  &matcherv3.ValueMatcher{MatchPattern: &matcherv3.ValueMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: value}}}},
	}}}
}

// TestEvaluateHTTP walks a gateway configuration built like the translator's: CUSTOM shadow
// RBAC + ext_authz, jwt_authn, DENY, ALLOW with dry-run shadow rules, router.
func TestEvaluateHTTP(t *testing.T) {
	t.Parallel()
	cfg := testGateway(t)
	cfg.Origins = func(kind, ns, name string) string { return kind + ":" + ns + "/" + name + ".yaml:3" }
	alice := map[string]any{"iss": "https://idp", "sub": "alice"}
	tests := map[string]struct {
		in                 Input
		result, by, origin string
		cluster            string
	}{
		"allowed": {in: Input{Port: 8080, Host: "app.example.com", Path: "/items", Claims: alice},
			result: "allowed", cluster: "app"},
		"deny policy": {in: Input{Port: 8080, Host: "app.example.com", Method: "DELETE", Path: "/items", Claims: alice},
			result: "403 RBAC: access denied", by: "AuthorizationPolicy foo/no-delete rules[0]",
			origin: "AuthorizationPolicy:foo/no-delete.yaml:3"},
		"no allow policy": {in: Input{Port: 8080, Host: "app.example.com", Path: "/items"},
			result: "403 RBAC: access denied", by: "envoy.filters.http.rbac: no ALLOW policy matched"},
		"ext_authz denies": {in: Input{Port: 8080, Host: "app.example.com", Path: "/ext", Claims: alice},
			result: "403", by: "AuthorizationPolicy foo/ext rules[0] (CUSTOM opa)", origin: "AuthorizationPolicy:foo/ext.yaml:3"},
		"ext_authz allows": {in: Input{Port: 8080, Host: "app.example.com", Path: "/ext", Claims: alice, ExtAuthz: ExtAuthzAllow},
			result: "allowed", cluster: "app"},
		"no virtual host": {in: Input{Port: 8080, Host: "other.example.com", Path: "/", Claims: alice},
			result: "404", by: "envoy.filters.http.router: no virtual host for other.example.com"},
		"direct response": {in: Input{Port: 8080, Host: "app.example.com", Path: "/down", Claims: alice},
			result: "503 upstream down", by: "envoy.filters.http.router: direct response of app route down"},
		"redirect": {in: Input{Port: 8080, Host: "app.example.com", Path: "/old?q=1", Claims: alice},
			result: "301", by: "envoy.filters.http.router: redirect by app route old"},
		"unknown cluster": {in: Input{Port: 8080, Host: "app.example.com", Path: "/gone", Claims: alice},
			result: "503", by: "envoy.filters.http.router: cluster missing not found"},
		"no listener": {in: Input{Port: 9999}, result: "connection closed", by: "listener: no listener on port 9999"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, err := Evaluate(cfg, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			origin := ""
			if out.Decision != nil {
				origin = out.Decision.Origin
			}
			if out.Result() != tc.result || out.By() != tc.by || origin != tc.origin || out.Cluster != tc.cluster {
				t.Errorf("got %q by %q at %q to %q, want %q by %q at %q to %q\ntrace: %+v",
					out.Result(), out.By(), origin, out.Cluster, tc.result, tc.by, tc.origin, tc.cluster, out.Trace)
			}
		})
	}
}

// TestEvaluateShadowNotEnforced: a dry-run DENY that matches is reported, and does not deny.
func TestEvaluateShadowNotEnforced(t *testing.T) {
	t.Parallel()
	out, err := Evaluate(testGateway(t), Input{Port: 8080, Host: "app.example.com", Path: "/items", Method: "PUT",
		Claims: map[string]any{"sub": "alice"}})
	if err != nil || !out.Allowed {
		t.Fatalf("want allowed, got %v (%s) %v", out.Result(), out.By(), err)
	}
	for _, s := range out.Trace {
		if s.Stage == "rbac" && s.Detail == "dry-run DENY shadow rules (not enforced): policy ns[foo]-policy[dry-put]-rule[0] matches" {
			return
		}
	}
	t.Errorf("trace does not report the matching dry-run policy: %+v", out.Trace)
}

func testClusters() []*clusterv3.Cluster {
	return []*clusterv3.Cluster{{Name: "app"}}
}

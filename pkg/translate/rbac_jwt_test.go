package translate

import (
	"testing"

	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/plainenvoy/controlplane/pkg/explain"
)

func claimIs(claim string, sm *matcherv3.StringMatcher) *rbacv3.Principal {
	return authzClaim([]string{claim}, authzValueString(sm))
}

func issSub(iss, sub *matcherv3.StringMatcher) *rbacv3.Principal {
	return authzAndIDs([]*rbacv3.Principal{claimIs("iss", iss), claimIs("sub", sub)})
}

// TestRequestPrincipalBranches pins the '/'-split enumeration of SEMANTICS.md §3.2 (DIFF D3).
func TestRequestPrincipalBranches(t *testing.T) {
	t.Parallel()
	any := authzRegex(".+")
	tests := map[string]struct {
		v    string
		want []*rbacv3.Principal
	}{
		"star": {v: "*", want: []*rbacv3.Principal{issSub(any, any)}},
		"exact": {v: "https://a/b", want: []*rbacv3.Principal{
			issSub(authzExact("https:"), authzExact("/a/b")),
			issSub(authzExact("https:/"), authzExact("a/b")),
			issSub(authzExact("https://a"), authzExact("b")),
		}},
		"exact without slash never matches": {v: "abc", want: []*rbacv3.Principal{authzNeverID()}},
		"prefix": {v: "i/s*", want: []*rbacv3.Principal{
			issSub(authzPrefix("i/s"), any),
			issSub(authzExact("i"), authzPrefix("s")),
		}},
		"prefix ending in slash": {v: "i/*", want: []*rbacv3.Principal{
			issSub(authzPrefix("i/"), any),
			issSub(authzExact("i"), any),
		}},
		"suffix": {v: "*i/s", want: []*rbacv3.Principal{
			issSub(any, authzSuffix("i/s")),
			issSub(authzSuffix("i"), authzExact("s")),
		}},
		"suffix starting with slash": {v: "*/s", want: []*rbacv3.Principal{
			issSub(any, authzSuffix("/s")),
			issSub(any, authzExact("s")),
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, requestPrincipalBranches(tc.v), protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestRequestPrincipalsMatch checks the forms against tokens whose issuer ends in '/' and
// whose subject contains '/', which Istio's last-'/' split gets wrong (istio/istio#52217).
func TestRequestPrincipalsMatch(t *testing.T) {
	t.Parallel()
	const iss, sub = "https://token.actions.githubusercontent.com/", "repo:org/x:ref:refs/heads/main"
	tests := map[string]struct {
		values  []string
		payload map[string]any
		want    bool
	}{
		"exact":                {values: []string{iss + "/" + sub}, payload: map[string]any{"iss": iss, "sub": sub}, want: true},
		"exact other subject":  {values: []string{iss + "/" + sub}, payload: map[string]any{"iss": iss, "sub": "repo:org/y"}},
		"prefix into issuer":   {values: []string{"https://token.act*"}, payload: map[string]any{"iss": iss, "sub": sub}, want: true},
		"prefix into subject":  {values: []string{iss + "/repo:org/*"}, payload: map[string]any{"iss": iss, "sub": sub}, want: true},
		"suffix into issuer":   {values: []string{"*.com//" + sub}, payload: map[string]any{"iss": iss, "sub": sub}, want: true},
		"suffix":               {values: []string{"*heads/main"}, payload: map[string]any{"iss": iss, "sub": sub}, want: true},
		"star needs a subject": {values: []string{"*"}, payload: map[string]any{"iss": iss}},
		"star empty subject":   {values: []string{"*"}, payload: map[string]any{"iss": iss, "sub": ""}},
		"star":                 {values: []string{"*"}, payload: map[string]any{"iss": iss, "sub": sub}, want: true},
		"no token":             {values: []string{"*"}},
		"prefix needs subject": {values: []string{"https://*"}, payload: map[string]any{"iss": iss}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := requestPrincipalsAttr().principal(tc.values)
			if err != nil {
				t.Fatal(err)
			}
			req := &explain.RBACRequest{}
			if tc.payload != nil {
				req.Metadata = map[string]map[string]any{jwtAuthnFilterName: {jwtPayloadKey: tc.payload}}
			}
			got, err := explain.RBACPrincipalMatches(p, req)
			if err != nil || got != tc.want {
				t.Errorf("match = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestClaimMatch: a claim matches as a string or as an element of a list (§3.1).
func TestClaimMatch(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		path    []string
		values  []string
		payload map[string]any
		want    bool
	}{
		"string":               {path: []string{"group"}, values: []string{"dev"}, payload: map[string]any{"group": "dev"}, want: true},
		"list element":         {path: []string{"groups"}, values: []string{"x", "dev"}, payload: map[string]any{"groups": []any{"a", "dev"}}, want: true},
		"list without match":   {path: []string{"groups"}, values: []string{"x"}, payload: map[string]any{"groups": []any{"a"}}},
		"nested":               {path: []string{"a", "b"}, values: []string{"v*"}, payload: map[string]any{"a": map[string]any{"b": "val"}}, want: true},
		"number never":         {path: []string{"n"}, values: []string{"1"}, payload: map[string]any{"n": 1.0}},
		"presence":             {path: []string{"c"}, values: []string{"*"}, payload: map[string]any{"c": "x"}, want: true},
		"missing claim":        {path: []string{"c"}, values: []string{"*"}, payload: map[string]any{}},
		"normalised scope hit": {path: []string{"scope"}, values: []string{"write"}, payload: map[string]any{"scope": []any{"read", "write"}}, want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := claimAttr(tc.path).principal(tc.values)
			if err != nil {
				t.Fatal(err)
			}
			req := &explain.RBACRequest{Metadata: map[string]map[string]any{jwtAuthnFilterName: {jwtPayloadKey: tc.payload}}}
			got, err := explain.RBACPrincipalMatches(p, req)
			if err != nil || got != tc.want {
				t.Errorf("match = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

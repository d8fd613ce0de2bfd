package explain

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func rbacTestPeer(sm *matcherv3.StringMatcher) *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_Authenticated_{Authenticated: &rbacv3.Principal_Authenticated{PrincipalName: sm}}}
}

func rbacTestPolicy(perm *rbacv3.Permission, id *rbacv3.Principal) *rbacv3.Policy {
	return &rbacv3.Policy{Permissions: []*rbacv3.Permission{perm}, Principals: []*rbacv3.Principal{id}}
}

var (
	rbacTestAnyID   = &rbacv3.Principal{Identifier: &rbacv3.Principal_Any{Any: true}}
	rbacTestAnyRule = &rbacv3.Permission{Rule: &rbacv3.Permission_Any{Any: true}}
)

func TestRBACEvaluate(t *testing.T) {
	t.Parallel()
	getAdmin := &rbacv3.Permission{Rule: &rbacv3.Permission_AndRules{AndRules: &rbacv3.Permission_Set{Rules: []*rbacv3.Permission{
		{Rule: &rbacv3.Permission_Header{Header: &routev3.HeaderMatcher{Name: ":method", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
			StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "GET"}}}}}},
		{Rule: &rbacv3.Permission_UrlPath{UrlPath: &matcherv3.PathMatcher{Rule: &matcherv3.PathMatcher_Path{
			Path: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "/admin"}}}}}},
	}}}}
	devPeer := rbacTestPeer(&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: ".*/ns/dev/.*"}}})
	fromNet := &rbacv3.Principal{Identifier: &rbacv3.Principal_DirectRemoteIp{DirectRemoteIp: &corev3.CidrRange{AddressPrefix: "10.0.0.0", PrefixLen: wrapperspb.UInt32(8)}}}
	notDev := &rbacv3.Principal{Identifier: &rbacv3.Principal_NotId{NotId: devPeer}}
	req := &RBACRequest{Method: "GET", Path: "/admin/x?q=1", SourceIP: "10.1.2.3", PeerPrincipal: "spiffe://cluster.local/ns/dev/sa/a"}
	plain := &RBACRequest{Method: "GET", Path: "/admin", SourceIP: "192.168.0.1"}
	tests := map[string]struct {
		cfg        *rbacv3.RBAC
		req        *RBACRequest
		wantAllow  bool
		wantPolicy string
	}{
		"nil config allows": {req: req, wantAllow: true},
		"deny matches": {cfg: &rbacv3.RBAC{Action: rbacv3.RBAC_DENY, Policies: map[string]*rbacv3.Policy{
			"b": rbacTestPolicy(getAdmin, devPeer), "a": rbacTestPolicy(rbacTestAnyRule, fromNet),
		}}, req: req, wantPolicy: "a"},
		"deny misses": {cfg: &rbacv3.RBAC{Action: rbacv3.RBAC_DENY, Policies: map[string]*rbacv3.Policy{
			"b": rbacTestPolicy(getAdmin, devPeer),
		}}, req: plain, wantAllow: true},
		"allow without policies denies": {cfg: &rbacv3.RBAC{}, req: req},
		"allow matches":                 {cfg: &rbacv3.RBAC{Policies: map[string]*rbacv3.Policy{"p": rbacTestPolicy(getAdmin, devPeer)}}, req: req, wantAllow: true, wantPolicy: "p"},
		"plaintext is not dev":          {cfg: &rbacv3.RBAC{Policies: map[string]*rbacv3.Policy{"p": rbacTestPolicy(getAdmin, notDev)}}, req: plain, wantAllow: true, wantPolicy: "p"},
		"log never denies":              {cfg: &rbacv3.RBAC{Action: rbacv3.RBAC_LOG, Policies: map[string]*rbacv3.Policy{"p": rbacTestPolicy(rbacTestAnyRule, rbacTestAnyID)}}, req: req, wantAllow: true, wantPolicy: "p"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := RBACEvaluate(tc.cfg, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if got.Allowed != tc.wantAllow || got.Policy != tc.wantPolicy {
				t.Errorf("got %+v, want allowed=%v policy=%q", got, tc.wantAllow, tc.wantPolicy)
			}
		})
	}
}

func TestRBACMatchers(t *testing.T) {
	t.Parallel()
	jwt := &RBACRequest{Metadata: map[string]map[string]any{"f": {"payload": map[string]any{"groups": []any{"a", "b"}, "n": 1.0}}}}
	claim := func(key string, v *matcherv3.ValueMatcher) *rbacv3.Principal {
		return &rbacv3.Principal{Identifier: &rbacv3.Principal_Metadata{Metadata: &matcherv3.MetadataMatcher{Filter: "f",
			Path:  []*matcherv3.MetadataMatcher_PathSegment{{Segment: &matcherv3.MetadataMatcher_PathSegment_Key{Key: "payload"}}, {Segment: &matcherv3.MetadataMatcher_PathSegment_Key{Key: key}}},
			Value: v}}}
	}
	str := func(s string) *matcherv3.ValueMatcher {
		return &matcherv3.ValueMatcher{MatchPattern: &matcherv3.ValueMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s}}}}
	}
	list := func(v *matcherv3.ValueMatcher) *matcherv3.ValueMatcher {
		return &matcherv3.ValueMatcher{MatchPattern: &matcherv3.ValueMatcher_ListMatch{ListMatch: &matcherv3.ListMatcher{MatchPattern: &matcherv3.ListMatcher_OneOf{OneOf: v}}}}
	}
	tests := map[string]struct {
		p    *rbacv3.Principal
		req  *RBACRequest
		want bool
	}{
		"list element":          {p: claim("groups", list(str("b"))), req: jwt, want: true},
		"string on list misses": {p: claim("groups", str("b")), req: jwt},
		"number is not string":  {p: claim("n", str("1")), req: jwt},
		"missing claim":         {p: claim("x", str("1")), req: jwt},
		"no metadata":           {p: claim("groups", list(str("a"))), req: &RBACRequest{}},
		"header present":        {p: &rbacv3.Principal{Identifier: &rbacv3.Principal_Header{Header: &routev3.HeaderMatcher{Name: "X-A", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}}}}, req: &RBACRequest{Headers: map[string]string{"x-a": ""}}, want: true},
		"header absent":         {p: &rbacv3.Principal{Identifier: &rbacv3.Principal_Header{Header: &routev3.HeaderMatcher{Name: "x-a", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}}}}, req: &RBACRequest{}},
		"remote ip falls back":  {p: &rbacv3.Principal{Identifier: &rbacv3.Principal_RemoteIp{RemoteIp: &corev3.CidrRange{AddressPrefix: "1.2.3.0", PrefixLen: wrapperspb.UInt32(24)}}}, req: &RBACRequest{SourceIP: "1.2.3.4"}, want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := RBACPrincipalMatches(tc.p, tc.req)
			if err != nil || got != tc.want {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestRBACURITemplate(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		tmpl, path string
		want       bool
	}{
		"one segment":         {tmpl: "/a/*/c", path: "/a/b/c", want: true},
		"one segment not two": {tmpl: "/a/*/c", path: "/a/b/x/c"},
		"any segments":        {tmpl: "/a/**", path: "/a/b/c", want: true},
		"other prefix":        {tmpl: "/a/**", path: "/b/c"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := rbacURITemplate(tc.tmpl, tc.path)
			if err != nil || got != tc.want {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestRBACChain checks that shadow rules are evaluated (a broken one is an error) but never
// deny, and that the first enforced denial names its filter and policy.
func TestRBACChain(t *testing.T) {
	t.Parallel()
	denyAll := &rbacv3.RBAC{Action: rbacv3.RBAC_DENY, Policies: map[string]*rbacv3.Policy{"d": rbacTestPolicy(rbacTestAnyRule, rbacTestAnyID)}}
	broken := &rbacv3.RBAC{Action: rbacv3.RBAC_DENY, Policies: map[string]*rbacv3.Policy{"x": rbacTestPolicy(rbacTestAnyRule,
		rbacTestPeer(&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "("}}}))}}
	req := &RBACRequest{Method: "GET", Path: "/", PeerPrincipal: "spiffe://cluster.local/ns/a/sa/b"}

	got, err := RBACChain([]RBACChainFilter{{ShadowRules: denyAll}}, req)
	if err != nil || !got.Allowed || got.Filter != -1 {
		t.Errorf("shadow deny: got %+v, %v; want allowed", got, err)
	}
	if got, err := RBACChain([]RBACChainFilter{{ShadowRules: broken}}, req); err == nil {
		t.Errorf("broken shadow rules: got %+v, want an error", got)
	}
	got, err = RBACChain([]RBACChainFilter{{ShadowRules: denyAll}, {Rules: denyAll}}, req)
	if err != nil || got.Allowed || got.Filter != 1 || got.Policy != "d" {
		t.Errorf("enforced deny: got %+v, %v; want filter 1 policy d", got, err)
	}
}

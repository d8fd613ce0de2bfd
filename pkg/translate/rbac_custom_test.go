package translate

import (
	"testing"

	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	extauthzhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestCustomFilterPair pins the CUSTOM layout of SEMANTICS.md §4.5: per provider (sorted) a
// shadow-only RBAC filter then ext_authz enabled by its mark, then the dry-run CUSTOM filter.
func TestCustomFilterPair(t *testing.T) {
	t.Parallel()
	in := authzInputs(t, authzHeader0+"  {name: c, namespace: foo}\nspec: {action: CUSTOM, provider: {name: b}, rules: [{}]}\n---\n"+
		authzHeader0+"  {name: c2, namespace: foo}\nspec: {action: CUSTOM, provider: {name: a}, rules: [{to: [{operation: {paths: [/p]}}]}]}\n---\n"+
		authzHeader0+"  {name: dry, namespace: foo, annotations: {istio.io/dry-run: 'true'}}\nspec: {action: CUSTOM, provider: {name: a}, rules: [{}]}\n",
		ExtAuthzProvider{Name: "b", EnvoyExtAuthzGRPC: &ExtAuthzGRPCProvider{Service: "ns/b.ns.svc.cluster.local", Port: 9000, Timeout: "2s"}},
		ExtAuthzProvider{Name: "a", EnvoyExtAuthzHTTP: &ExtAuthzHTTPProvider{
			Service: "a.foo.svc.cluster.local", Port: 8000, FailOpen: true, StatusOnError: "503", PathPrefix: "/check",
			IncludeRequestHeadersInCheck: []string{"x-*"}, HeadersToUpstreamOnAllow: []string{"x-user"},
		}})
	fs, problems := customAuthzFilters(in)
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	var names []string
	for _, f := range fs {
		names = append(names, f.GetName())
		if err := f.ValidateAll(); err != nil {
			t.Fatal(err)
		}
	}
	wantNames := []string{authzHTTPFilterName, authzExtAuthzHTTPName, authzHTTPFilterName, authzExtAuthzHTTPName, authzHTTPFilterName}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Fatalf("filters (-want +got):\n%s", diff)
	}
	var first rbachttpv3.RBAC
	if err := fs[0].GetTypedConfig().UnmarshalTo(&first); err != nil {
		t.Fatal(err)
	}
	want := &rbachttpv3.RBAC{
		ShadowRules: &rbacv3.RBAC{Action: rbacv3.RBAC_DENY, Policies: map[string]*rbacv3.Policy{
			"istio-ext-authz-a-ns[foo]-policy[c2]-rule[0]": {
				Permissions: []*rbacv3.Permission{authzAndRules([]*rbacv3.Permission{authzOrRules([]*rbacv3.Permission{urlPath(authzExact("/p"))})})},
				Principals:  []*rbacv3.Principal{authzAndIDs([]*rbacv3.Principal{authzAnyID()})},
			},
		}},
		ShadowRulesStatPrefix: "istio_ext_authz_",
	}
	if diff := cmp.Diff(want, &first, protocmp.Transform()); diff != "" {
		t.Errorf("provider a RBAC (-want +got):\n%s", diff)
	}
	var ea extauthzhttpv3.ExtAuthz
	if err := fs[1].GetTypedConfig().UnmarshalTo(&ea); err != nil {
		t.Fatal(err)
	}
	if got := ea.GetFilterEnabledMetadata().GetValue().GetStringMatch().GetPrefix(); got != "istio-ext-authz-a-" {
		t.Errorf("filter_enabled_metadata prefix = %q", got)
	}
	if ea.GetHttpService().GetServerUri().GetCluster() != "outbound|8000||a.foo.svc.cluster.local" || !ea.GetFailureModeAllow() ||
		ea.GetStatusOnError().GetCode() != 503 || ea.GetHttpService().GetPathPrefix() != "/check" {
		t.Errorf("ext_authz for a = %v", &ea)
	}
	var grpc extauthzhttpv3.ExtAuthz
	if err := fs[3].GetTypedConfig().UnmarshalTo(&grpc); err != nil {
		t.Fatal(err)
	}
	if c := grpc.GetGrpcService().GetEnvoyGrpc().GetClusterName(); c != "outbound|9000||b.ns.svc.cluster.local" || grpc.GetGrpcService().GetTimeout().AsDuration().Seconds() != 2 {
		t.Errorf("ext_authz for b = %v", &grpc)
	}
	var dry rbachttpv3.RBAC
	if err := fs[4].GetTypedConfig().UnmarshalTo(&dry); err != nil {
		t.Fatal(err)
	}
	if dry.GetRules() != nil || dry.GetShadowRulesStatPrefix() != "istio_dry_run_custom_" || len(dry.GetShadowRules().GetPolicies()) != 1 {
		t.Errorf("dry-run CUSTOM filter = %v", &dry)
	}
}

// TestDryRunPrefixes: dry-run ALLOW/DENY/AUDIT land in shadow_rules with Istio's prefixes.
func TestDryRunPrefixes(t *testing.T) {
	t.Parallel()
	in := authzInputs(t, authzHeader0+"  {name: a, namespace: foo, annotations: {istio.io/dry-run: 'true'}}\nspec: {rules: [{}]}\n---\n"+
		authzHeader0+"  {name: d, namespace: foo, annotations: {istio.io/dry-run: '1'}}\nspec: {action: DENY, rules: [{}]}\n---\n"+
		authzHeader0+"  {name: d2, namespace: foo}\nspec: {action: DENY, rules: [{}]}\n---\n"+
		authzHeader0+"  {name: l, namespace: foo, annotations: {istio.io/dry-run: 'true'}}\nspec: {action: AUDIT, rules: [{}]}\n")
	tests := map[string]struct {
		action     policyAction
		wantRules  bool
		wantPrefix string
		wantShadow rbacv3.RBAC_Action
	}{
		"allow": {action: actionAllow, wantPrefix: "istio_dry_run_allow_", wantShadow: rbacv3.RBAC_ALLOW},
		"deny":  {action: actionDeny, wantRules: true, wantPrefix: "istio_dry_run_deny_", wantShadow: rbacv3.RBAC_DENY},
		"audit": {action: actionAudit, wantPrefix: "", wantShadow: rbacv3.RBAC_LOG},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fs, _ := rbacHTTPFilters(in, tc.action)
			if len(fs) != 1 {
				t.Fatalf("got %d filters", len(fs))
			}
			var cfg rbachttpv3.RBAC
			if err := fs[0].GetTypedConfig().UnmarshalTo(&cfg); err != nil {
				t.Fatal(err)
			}
			if (cfg.GetRules() != nil) != tc.wantRules || cfg.GetShadowRulesStatPrefix() != tc.wantPrefix ||
				cfg.GetShadowRules().GetAction() != tc.wantShadow {
				t.Errorf("config = %v", &cfg)
			}
		})
	}
}

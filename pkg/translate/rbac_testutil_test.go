package translate

import (
	"strings"
	"testing"

	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	rbacnetworkv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"

	"github.com/plainenvoy/controlplane/pkg/explain"
	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
)

// authzTestProxy is the sidecar every authorization test translates for.
var authzTestProxy = model.Proxy{
	Role: model.RoleSidecar, Namespace: "foo", ServiceAccount: "httpbin",
	Labels: map[string]string{"app": "httpbin"},
}

// authzInputs decodes AuthorizationPolicies written as YAML documents.
func authzInputs(t testing.TB, docs string, providers ...ExtAuthzProvider) Inputs {
	t.Helper()
	objs, problems := file.Decode("test.yaml", []byte(docs))
	if len(problems) > 0 {
		t.Fatalf("decode: %v", problems)
	}
	return Inputs{
		Store: model.NewStore(model.Mesh{}, objs), Proxy: authzTestProxy, ExtAuthz: providers,
	}
}

// authzHTTPChain returns the RBAC filters of an HTTP chain in order, ext_authz left out
// (it can only deny more), and every problem found.
func authzHTTPChain(t testing.TB, in Inputs) ([]explain.RBACChainFilter, []model.Problem) {
	t.Helper()
	var chain []explain.RBACChainFilter
	var problems []model.Problem
	for _, s := range httpSlots(customAuthz(in, false)) {
		if s.name == "jwt_authn" || s.name == "router" {
			continue
		}
		fs, ps := s.build(in)
		problems = append(problems, ps...)
		for _, f := range fs {
			if err := f.ValidateAll(); err != nil {
				t.Fatalf("filter %s: ValidateAll: %v", f.GetName(), err)
			}
			if f.GetName() != authzHTTPFilterName {
				continue
			}
			var cfg rbachttpv3.RBAC
			if err := f.GetTypedConfig().UnmarshalTo(&cfg); err != nil {
				t.Fatal(err)
			}
			if err := cfg.ValidateAll(); err != nil {
				t.Fatalf("rbac: ValidateAll: %v", err)
			}
			chain = append(chain, explain.RBACChainFilter{Rules: cfg.GetRules(), ShadowRules: cfg.GetShadowRules()})
		}
	}
	return chain, model.SortProblems(problems)
}

// authzTCPChain is authzHTTPChain for a TCP chain.
func authzTCPChain(t testing.TB, in Inputs) ([]explain.RBACChainFilter, []model.Problem) {
	t.Helper()
	fs, problems := rbacNetworkFilters(in)
	var chain []explain.RBACChainFilter
	for _, f := range fs {
		if err := f.ValidateAll(); err != nil {
			t.Fatalf("filter %s: ValidateAll: %v", f.GetName(), err)
		}
		if f.GetName() != authzNetworkFilterName {
			continue
		}
		var cfg rbacnetworkv3.RBAC
		if err := f.GetTypedConfig().UnmarshalTo(&cfg); err != nil {
			t.Fatal(err)
		}
		if err := cfg.ValidateAll(); err != nil {
			t.Fatalf("network rbac: ValidateAll: %v", err)
		}
		chain = append(chain, explain.RBACChainFilter{Rules: cfg.GetRules(), ShadowRules: cfg.GetShadowRules()})
	}
	return chain, model.SortProblems(problems)
}

// checkProblems requires each wanted substring to appear in some problem, and no problem
// when none is wanted.
func checkProblems(t *testing.T, got []model.Problem, want []string) {
	t.Helper()
	var all []string
	for _, p := range got {
		all = append(all, p.String())
	}
	joined := strings.Join(all, "\n")
	if len(want) == 0 && len(got) > 0 {
		t.Errorf("unexpected problems:\n%s", joined)
	}
	for _, w := range want {
		if !strings.Contains(joined, w) {
			t.Errorf("no problem contains %q; got:\n%s", w, joined)
		}
	}
}

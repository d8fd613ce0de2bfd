package translate

import (
	"strings"
	"testing"

	securityv1beta1 "istio.io/api/security/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// TestExtAuthzUnknownServiceReported: a CUSTOM provider whose service no ServiceEntry declares
// gets no cluster, and the warning names the policy using it and its provider field.
func TestExtAuthzUnknownServiceReported(t *testing.T) {
	ap := &model.AuthorizationPolicy{
		Meta: model.Meta{Kind: model.KindAuthorizationPolicy, Namespace: "istio-system", Name: "ext",
			Origin: model.Origin{File: "ext.yaml", Line: 3}},
		Spec: &securityv1beta1.AuthorizationPolicy{
			Action:       securityv1beta1.AuthorizationPolicy_CUSTOM,
			ActionDetail: &securityv1beta1.AuthorizationPolicy_Provider{Provider: &securityv1beta1.AuthorizationPolicy_ExtensionProvider{Name: "opa"}},
			Rules:        []*securityv1beta1.Rule{{}},
		},
	}
	in := Inputs{
		Store:    model.NewStore(model.Mesh{}, []model.Object{ap}),
		Proxy:    model.Proxy{Role: model.RoleGateway, Namespace: "istio-system"},
		ExtAuthz: []ExtAuthzProvider{{Name: "opa", EnvoyExtAuthzGRPC: &ExtAuthzGRPCProvider{Service: "opa.missing.svc.cluster.local", Port: 9191}}},
	}
	keys, problems := extAuthzClusterKeys(in, newRegistry(in.Store))
	if len(keys) != 0 {
		t.Fatalf("cluster keys %v for an unknown service", keys)
	}
	if len(problems) != 1 || !strings.HasPrefix(problems[0].String(), "ext.yaml:3: AuthorizationPolicy istio-system/ext: spec.provider.name: warning: CUSTOM provider \"opa\"") {
		t.Fatalf("problems %v", problems)
	}
}

package translate

import (
	"fmt"
	"testing"

	securityv1beta1 "istio.io/api/security/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// authzBenchPolicy is a realistic policy: ten rules mixing identity, JWT, path and header
// conditions.
func authzBenchPolicy(ns, name string, action securityv1beta1.AuthorizationPolicy_Action) *model.AuthorizationPolicy {
	spec := &securityv1beta1.AuthorizationPolicy{Action: action}
	for i := range 10 {
		spec.Rules = append(spec.Rules, &securityv1beta1.Rule{
			From: []*securityv1beta1.Rule_From{{Source: &securityv1beta1.Source{
				Principals:        []string{fmt.Sprintf("cluster.local/ns/ns%d/sa/client", i), "cluster.local/ns/ops/sa/*"},
				RequestPrincipals: []string{"https://issuer.example.com/user*"},
			}}, {Source: &securityv1beta1.Source{Namespaces: []string{"ns" + fmt.Sprint(i)}, IpBlocks: []string{"10.0.0.0/8"}}}},
			To: []*securityv1beta1.Rule_To{{Operation: &securityv1beta1.Operation{
				Methods: []string{"GET", "POST"}, Paths: []string{fmt.Sprintf("/api/v%d/*", i), "/items/{*}/detail"},
				Ports: []string{"8080"}, NotHosts: []string{"admin.example.com"},
			}}},
			When: []*securityv1beta1.Condition{
				{Key: "request.auth.claims[groups]", Values: []string{"dev", "ops"}},
				{Key: "request.headers[x-tenant]", NotValues: []string{"blocked*"}},
			},
		})
	}
	return &model.AuthorizationPolicy{
		Meta: model.Meta{Kind: model.KindAuthorizationPolicy, Namespace: ns, Name: name}, Spec: spec,
	}
}

// authzBenchTranslate builds every authorization filter of one proxy group, HTTP and TCP.
func authzBenchTranslate(b *testing.B, in Inputs) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		fs, _ := customAuthzFilters(in)
		n += len(fs)
		for _, a := range []policyAction{actionAudit, actionDeny, actionAllow} {
			fs, _ := rbacHTTPFilters(in, a)
			n += len(fs)
		}
		nfs, _ := rbacNetworkFilters(in)
		if n+len(nfs) == 0 {
			b.Fatal("no filters")
		}
	}
}

func BenchmarkTranslateAuthz(b *testing.B) {
	b.Run("workload=1/policies=500/rules=10", func(b *testing.B) {
		var objs []model.Object
		for i := range 500 {
			action := securityv1beta1.AuthorizationPolicy_ALLOW
			if i%5 == 0 {
				action = securityv1beta1.AuthorizationPolicy_DENY
			}
			objs = append(objs, authzBenchPolicy("foo", fmt.Sprintf("p%03d", i), action))
		}
		authzBenchTranslate(b, Inputs{Store: model.NewStore(model.Mesh{}, objs), Proxy: authzTestProxy})
	})
	b.Run("policies=2000/namespaces=200", func(b *testing.B) {
		var objs []model.Object
		for i := range 2000 {
			ns := fmt.Sprintf("ns%03d", i%200)
			if i%200 == 0 {
				ns = "foo"
			}
			objs = append(objs, authzBenchPolicy(ns, fmt.Sprintf("p%04d", i), securityv1beta1.AuthorizationPolicy_ALLOW))
		}
		authzBenchTranslate(b, Inputs{Store: model.NewStore(model.Mesh{}, objs), Proxy: authzTestProxy})
	})
}

package translate

import (
	"testing"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

func TestDestinationRuleFor(t *testing.T) {
	dr := func(ns, name, host string) *model.DestinationRule {
		return &model.DestinationRule{Meta: model.Meta{Kind: model.KindDestinationRule, Namespace: ns, Name: name},
			Spec: &networkingv1alpha3.DestinationRule{Host: host}}
	}
	svc := &service{Host: "httpbin.foo.svc.cluster.local", Namespace: "foo"}
	tests := map[string]struct {
		rules []*model.DestinationRule
		want  string // name of the rule chosen, "" for none
	}{
		"mesh-wide wildcard in the root namespace": {[]*model.DestinationRule{dr("istio-system", "mesh", "*.local")}, "mesh"},
		"exact beats wildcard in one namespace":    {[]*model.DestinationRule{dr("foo", "wild", "*.local"), dr("foo", "exact", "httpbin.foo.svc.cluster.local")}, "exact"},
		"longer wildcard beats shorter":            {[]*model.DestinationRule{dr("foo", "local", "*.local"), dr("foo", "ns", "*.foo.svc.cluster.local")}, "ns"},
		"short name in the service's namespace":    {[]*model.DestinationRule{dr("foo", "short", "httpbin")}, "short"},
		"proxy's namespace beats root":             {[]*model.DestinationRule{dr("istio-system", "root", "httpbin.foo.svc.cluster.local"), dr("sleep", "mine", "*.local")}, "mine"},
		"other namespaces do not apply":            {[]*model.DestinationRule{dr("bar", "other", "*.local")}, ""},
		"non-matching host":                        {[]*model.DestinationRule{dr("foo", "x", "*.example.com")}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs := make([]model.Object, len(tc.rules))
			for i, r := range tc.rules {
				objs[i] = r
			}
			in := Inputs{Store: model.NewStore(model.Mesh{}, objs), Proxy: model.Proxy{Role: model.RoleSidecar, Namespace: "sleep"}}
			got := ""
			if r := destinationRuleFor(in, svc); r != nil {
				got = r.Name
			}
			if got != tc.want {
				t.Fatalf("chose %q, want %q", got, tc.want)
			}
		})
	}
}

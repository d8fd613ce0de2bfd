package snapshot

import (
	"testing"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1beta1 "istio.io/api/security/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

func ap(ns, name, principal string) *model.AuthorizationPolicy {
	return &model.AuthorizationPolicy{Meta: model.Meta{Kind: model.KindAuthorizationPolicy, Namespace: ns, Name: name},
		Spec: &securityv1beta1.AuthorizationPolicy{Rules: []*securityv1beta1.Rule{{From: []*securityv1beta1.Rule_From{{
			Source: &securityv1beta1.Source{Principals: []string{principal}}}}}}}}
}

// pa is a PeerAuthentication: auto mTLS makes it matter to every client (deps.go).
func pa(ns, name string) *model.PeerAuthentication {
	return &model.PeerAuthentication{Meta: model.Meta{Kind: model.KindPeerAuthentication, Namespace: ns, Name: name},
		Spec: &securityv1beta1.PeerAuthentication{Mtls: &securityv1beta1.PeerAuthentication_MutualTLS{Mode: securityv1beta1.PeerAuthentication_MutualTLS_DISABLE}}}
}

func vs(ns, name, host string) *model.VirtualService {
	return &model.VirtualService{Meta: model.Meta{Kind: model.KindVirtualService, Namespace: ns, Name: name},
		Spec: &networkingv1alpha3.VirtualService{Hosts: []string{host}}}
}

func TestDiffAffects(t *testing.T) {
	base := []model.Object{ap("foo", "a", "x"), ap("bar", "a", "x"), vs("foo", "v", "h")}
	tests := map[string]struct {
		next     []model.Object
		affected map[string]bool // proxy namespace → affected
	}{
		"nothing changed":            {next: base, affected: map[string]bool{"foo": false, "bar": false}},
		"policy edited in foo":       {next: []model.Object{ap("foo", "a", "y"), ap("bar", "a", "x"), vs("foo", "v", "h")}, affected: map[string]bool{"foo": true, "bar": false}},
		"policy added in bar":        {next: append([]model.Object{ap("bar", "b", "x")}, base...), affected: map[string]bool{"foo": false, "bar": true}},
		"policy removed in foo":      {next: []model.Object{ap("bar", "a", "x"), vs("foo", "v", "h")}, affected: map[string]bool{"foo": true, "bar": false}},
		"peer authentication in bar": {next: append([]model.Object{pa("bar", "p")}, base...), affected: map[string]bool{"foo": true, "bar": true}},
		"root policy added":          {next: append([]model.Object{ap("istio-system", "r", "x")}, base...), affected: map[string]bool{"foo": true, "bar": true}},
		"virtual service edited":     {next: []model.Object{ap("foo", "a", "x"), ap("bar", "a", "x"), vs("foo", "v", "other")}, affected: map[string]bool{"foo": true, "bar": true}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := diff(model.NewStore(model.Mesh{}, base), model.NewStore(model.Mesh{}, tc.next))
			for ns, want := range tc.affected {
				if got := c.affects(ns, model.DefaultRootNamespace); got != want {
					t.Errorf("affects(%s) = %v, want %v", ns, got, want)
				}
			}
		})
	}
	tls := model.Mesh{TLSDefaults: model.TLSConfig{MinProtocolVersion: "TLSV1_3"}}
	if c := diff(model.NewStore(model.Mesh{}, base), model.NewStore(tls, base)); !c.all {
		t.Error("a mesh TLS setting change must affect every group")
	}
	if c := diff(nil, model.NewStore(model.Mesh{}, base)); !c.all {
		t.Error("first store must affect every group")
	}
}

package translate_test

import (
	"fmt"
	"testing"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// BenchmarkTranslateGateway: one gateway with `routes` HTTP routes spread over 50 hosts (one
// VirtualService per host), each route to its own ServiceEntry.
func BenchmarkTranslateGateway(b *testing.B) {
	for _, routes := range []int{500, 5000} {
		b.Run(fmt.Sprintf("routes=%d/hosts=50", routes), func(b *testing.B) {
			in := gatewayBenchInputs(routes, 50)
			b.ReportAllocs()
			for b.Loop() {
				if r, _ := translate.Proxy(in); len(r.Listeners) != 1 {
					b.Fatalf("got %d listeners", len(r.Listeners))
				}
			}
		})
	}
}

// BenchmarkTranslateSidecar: one sidecar in a mesh of `services` services (2 endpoints each),
// every one of which it may call.
func BenchmarkTranslateSidecar(b *testing.B) {
	for _, services := range []int{1000} {
		b.Run(fmt.Sprintf("services=%d", services), func(b *testing.B) {
			in := sidecarBenchInputs(services)
			b.ReportAllocs()
			for b.Loop() {
				if r, _ := translate.Proxy(in); len(r.Clusters) < services {
					b.Fatalf("got %d clusters", len(r.Clusters))
				}
			}
		})
	}
}

func gatewayBenchInputs(routes, hosts int) translate.Inputs {
	objs := []model.Object{&model.Gateway{
		Meta: model.Meta{Kind: model.KindGateway, Namespace: "istio-system", Name: "gw"},
		Spec: &networkingv1alpha3.Gateway{
			Selector: map[string]string{"istio": "ingressgateway"},
			Servers: []*networkingv1alpha3.Server{{
				Port:  &networkingv1alpha3.Port{Number: 80, Name: "http", Protocol: "HTTP"},
				Hosts: []string{"*"},
			}},
		},
	}}
	vss := make([]*networkingv1alpha3.VirtualService, hosts)
	for h := range hosts {
		vss[h] = &networkingv1alpha3.VirtualService{
			Hosts: []string{fmt.Sprintf("host-%d.example.com", h)}, Gateways: []string{"istio-system/gw"},
		}
		objs = append(objs, &model.VirtualService{
			Meta: model.Meta{Kind: model.KindVirtualService, Namespace: "apps", Name: fmt.Sprintf("vs-%d", h)}, Spec: vss[h],
		})
	}
	for i := range routes {
		svc := fmt.Sprintf("svc-%d.apps.svc.cluster.local", i)
		vs := vss[i%hosts]
		vs.Http = append(vs.Http, &networkingv1alpha3.HTTPRoute{
			Match: []*networkingv1alpha3.HTTPMatchRequest{{Uri: &networkingv1alpha3.StringMatch{
				MatchType: &networkingv1alpha3.StringMatch_Prefix{Prefix: fmt.Sprintf("/api/%d", i)}}}},
			Route: []*networkingv1alpha3.HTTPRouteDestination{{Destination: &networkingv1alpha3.Destination{Host: svc}}},
		})
		objs = append(objs, benchService(i))
	}
	proxy := model.Proxy{Role: model.RoleGateway, Namespace: "istio-system", Labels: map[string]string{"istio": "ingressgateway"}}
	return translate.Inputs{Store: model.NewStore(model.Mesh{}, objs), Proxy: proxy}
}

func sidecarBenchInputs(services int) translate.Inputs {
	var objs []model.Object
	for i := range services {
		objs = append(objs, benchService(i))
	}
	proxy := model.Proxy{Role: model.RoleSidecar, Namespace: "apps", ServiceAccount: "svc-0",
		Labels: map[string]string{"app": "svc-0"}, Interception: model.InterceptionTransparent}
	return translate.Inputs{Store: model.NewStore(model.Mesh{}, objs), Proxy: proxy}
}

func benchService(i int) *model.ServiceEntry {
	return &model.ServiceEntry{
		Meta: model.Meta{Kind: model.KindServiceEntry, Namespace: "apps", Name: fmt.Sprintf("svc-%d", i)},
		Spec: &networkingv1alpha3.ServiceEntry{
			Hosts:            []string{fmt.Sprintf("svc-%d.apps.svc.cluster.local", i)},
			Ports:            []*networkingv1alpha3.ServicePort{{Number: 8080, Name: "http", Protocol: "HTTP"}},
			Resolution:       networkingv1alpha3.ServiceEntry_STATIC,
			WorkloadSelector: &networkingv1alpha3.WorkloadSelector{Labels: map[string]string{"app": fmt.Sprintf("svc-%d", i)}},
			Endpoints: []*networkingv1alpha3.WorkloadEntry{
				{Address: fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)},
				{Address: fmt.Sprintf("10.2.%d.%d", i/250, i%250+1)},
			},
		},
	}
}

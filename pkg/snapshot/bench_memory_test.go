package snapshot

import (
	"fmt"
	"runtime"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// meshTranslate gives every sidecar group the same mesh-wide clusters and endpoints (services
// × endpoints, as a sidecar without a Sidecar scope gets them) and a listener of its own.
func meshTranslate(services, endpoints int) TranslateFunc {
	return func(in translate.Inputs) (translate.Resources, []model.Problem) {
		var r translate.Resources
		for i := range services {
			name := fmt.Sprintf("outbound|8080||svc-%d.ns-%d.svc.cluster.local", i, i)
			r.Clusters = append(r.Clusters, &clusterv3.Cluster{Name: name,
				ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
				EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{
					ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}}})
			cla := &endpointv3.ClusterLoadAssignment{ClusterName: name}
			lb := &endpointv3.LocalityLbEndpoints{}
			for e := range endpoints {
				lb.LbEndpoints = append(lb.LbEndpoints, &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
					Endpoint: &endpointv3.Endpoint{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
						Address: fmt.Sprintf("10.%d.%d.%d", i/250, i%250, e), PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080}}}}}}})
			}
			cla.Endpoints = []*endpointv3.LocalityLbEndpoints{lb}
			r.Endpoints = append(r.Endpoints, cla)
		}
		r.Listeners = []*listenerv3.Listener{{Name: "virtualInbound-" + in.Proxy.Namespace}}
		return r, nil
	}
}

// BenchmarkGroupMemory builds 50 sidecar groups that share a 200-service, 25-endpoint mesh (the
// Kubernetes scale benchmark's shape) and reports the heap each group keeps.
func BenchmarkGroupMemory(b *testing.B) {
	const groups = 50
	for b.Loop() {
		s, err := New(Options{Translate: meshTranslate(200, 25)})
		if err != nil {
			b.Fatal(err)
		}
		s.SetStore(model.NewStore(model.Mesh{}, nil))
		before := heapInUse()
		for i := range groups {
			s.attach(b.Context(), model.Proxy{Role: model.RoleSidecar, Namespace: fmt.Sprintf("ns-%d", i)})
		}
		after := heapInUse()
		b.ReportMetric(float64(after-before)/groups/1024, "KiB/group")
		runtime.KeepAlive(s)
	}
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC() // the second pass runs the cleanups the first one queued
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// kubeShapedMesh is the Kubernetes scale benchmark's mesh as the Kubernetes source models it:
// per namespace a MESH_INTERNAL ServiceEntry selecting 25 WorkloadEntries (pods) and 10
// AuthorizationPolicies.
func kubeShapedMesh(namespaces, pods, policies int) *model.Store {
	var objs []model.Object
	for n := range namespaces {
		ns := fmt.Sprintf("ns-%d", n)
		objs = append(objs, &model.ServiceEntry{Meta: model.Meta{Kind: model.KindServiceEntry, Namespace: ns, Name: "web"},
			Spec: &networkingv1alpha3.ServiceEntry{
				Hosts: []string{"web." + ns + ".svc.cluster.local"}, Addresses: []string{fmt.Sprintf("10.96.%d.%d", n/250, n%250)},
				Ports:    []*networkingv1alpha3.ServicePort{{Number: 8080, Name: "http", Protocol: "HTTP", TargetPort: 9090}},
				Location: networkingv1alpha3.ServiceEntry_MESH_INTERNAL, Resolution: networkingv1alpha3.ServiceEntry_STATIC,
				WorkloadSelector: &networkingv1alpha3.WorkloadSelector{Labels: map[string]string{"app": "web"}}}})
		for p := range pods {
			objs = append(objs, &model.WorkloadEntry{Meta: model.Meta{Kind: model.KindWorkloadEntry, Namespace: ns, Name: fmt.Sprintf("web-%d", p)},
				Spec: &networkingv1alpha3.WorkloadEntry{Address: fmt.Sprintf("10.%d.%d.%d", n/250, n%250, p+1),
					Labels: map[string]string{"app": "web", "security.istio.io/tlsMode": "istio"}, ServiceAccount: "web"}})
		}
		for k := range policies {
			objs = append(objs, ap(ns, fmt.Sprintf("p-%d", k), fmt.Sprintf("cluster.local/ns/%s/sa/p-%d", ns, k)))
		}
	}
	return model.NewStore(model.Mesh{}.WithDefaults(), objs)
}

// BenchmarkSidecarGroupBuild is one sidecar group's rebuild in the Kubernetes scale benchmark's
// mesh (200 namespaces, 5,000 pods, 2,000 policies): what every group costs when an endpoint
// anywhere changes.
func BenchmarkSidecarGroupBuild(b *testing.B) {
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	s.SetStore(kubeShapedMesh(200, 25, 10))
	sidecar := func(ns string) *group {
		return &group{key: ns, proxy: model.Proxy{Role: model.RoleSidecar, Namespace: ns, ServiceAccount: "web",
			Labels: map[string]string{"app": "web"}, Interception: model.InterceptionTransparent}}
	}
	// Another namespace's group is served already, as in the mesh: it holds the shared resources.
	other, _ := s.prepare(b.Context(), sidecar("ns-2"))
	g := sidecar("ns-1")
	b.ReportAllocs()
	for b.Loop() {
		s.prepare(b.Context(), g)
	}
	runtime.KeepAlive(other)
}

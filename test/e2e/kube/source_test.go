package kube_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/kube"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// TestGatewayFromCluster applies a Gateway, a VirtualService and a Service with an
// EndpointSlice and a Pod through the API, and checks that the published store translates into
// a gateway listener, route and cluster whose endpoint is the Pod's IP and its named target
// port; then that updates and deletions propagate.
func TestGatewayFromCluster(t *testing.T) {
	kc, ic := clients(t)
	ctx := context.Background()
	ns := newNamespace(t, kc, "gw")
	r := startSource(t, restConfig, kube.Options{})

	createGateway(t, ic, ns)
	vs := createVirtualService(t, ic, ns, "web.example.com")
	createWebService(t, kc, ns)
	slice := createWebWorkload(t, kc, ns, "10.1.2.3")
	cluster := fmt.Sprintf("outbound|8080||web.%s.svc.cluster.local", ns)

	s := r.col.waitFor(t, "the gateway's routes and the pod endpoint", func(s *model.Store, _ []model.Problem) bool {
		return slices.Equal(endpointsOf(gatewayConfig(s, ns), cluster), []string{"10.1.2.3:9090"})
	})
	res := gatewayConfig(s, ns)
	if got := names(res.Listeners); !slices.Equal(got, []string{"0.0.0.0_80"}) {
		t.Errorf("listeners %v, want [0.0.0.0_80]", got)
	}
	if got := domains(res); !slices.Contains(got, "web.example.com") {
		t.Errorf("route domains %v, want web.example.com", got)
	}
	if !slices.Contains(names(res.Clusters), cluster) {
		t.Errorf("clusters %v, want %s", names(res.Clusters), cluster)
	}
	we := workloadEntry(s, ns, "web-1")
	if we == nil || we.Spec.GetServiceAccount() != "web" || we.Spec.GetLabels()[kube.TLSModeLabel] != "disabled" {
		t.Errorf("WorkloadEntry web-1 = %v, want service account web and tlsMode disabled", we)
	}

	// Update: a new host on the VirtualService.
	vs.Spec.Hosts = []string{"www.example.com"}
	if _, err := ic.NetworkingV1().VirtualServices(ns).Update(ctx, vs, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	r.col.waitFor(t, "the updated VirtualService host", func(s *model.Store, _ []model.Problem) bool {
		d := domains(gatewayConfig(s, ns))
		return slices.Contains(d, "www.example.com") && !slices.Contains(d, "web.example.com")
	})

	// Readiness: the slice marks the pod not ready, so it is no endpoint any more.
	slice.Endpoints[0].Conditions.Ready = new(false)
	if _, err := kc.DiscoveryV1().EndpointSlices(ns).Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	r.col.waitFor(t, "no endpoint for the unready pod", func(s *model.Store, _ []model.Problem) bool {
		return workloadEntry(s, ns, "web-1") == nil && len(endpointsOf(gatewayConfig(s, ns), cluster)) == 0
	})

	// Deletions.
	if err := ic.NetworkingV1().VirtualServices(ns).Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := kc.CoreV1().Services(ns).Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	r.col.waitFor(t, "the VirtualService and Service gone", func(s *model.Store, _ []model.Problem) bool {
		return !has(s, model.KindVirtualService, ns, "web") && !has(s, model.KindServiceEntry, ns, "web") &&
			len(domains(gatewayConfig(s, ns))) == 0
	})
}

func createGateway(t *testing.T, ic istioclient.Interface, ns string) {
	t.Helper()
	gw := &networkingv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: ns},
		Spec: networkingv1alpha3.Gateway{
			Selector: map[string]string{"istio": "gw-" + ns},
			Servers: []*networkingv1alpha3.Server{{
				Port:  &networkingv1alpha3.Port{Number: 80, Name: "http", Protocol: "HTTP"},
				Hosts: []string{"*"},
			}},
		},
	}
	if _, err := ic.NetworkingV1().Gateways(ns).Create(context.Background(), gw, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func createVirtualService(t *testing.T, ic istioclient.Interface, ns, host string) *networkingv1.VirtualService {
	t.Helper()
	vs := &networkingv1.VirtualService{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: networkingv1alpha3.VirtualService{
			Hosts: []string{host}, Gateways: []string{"gw"},
			Http: []*networkingv1alpha3.HTTPRoute{{Route: []*networkingv1alpha3.HTTPRouteDestination{{
				Destination: &networkingv1alpha3.Destination{Host: "web", Port: &networkingv1alpha3.PortSelector{Number: 8080}},
			}}}},
		},
	}
	out, err := ic.NetworkingV1().VirtualServices(ns).Create(context.Background(), vs, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// createWebService creates Service web: port 8080 "http" to the pods' named port "web-port".
func createWebService(t *testing.T, kc kubernetes.Interface, ns string) {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 8080, TargetPort: intstr.FromString("web-port")}},
		},
	}
	if _, err := kc.CoreV1().Services(ns).Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createWebWorkload creates Pod web-1 with ip (set through the status subresource, as a
// kubelet would) and an EndpointSlice listing it as ready. It returns the slice.
func createWebWorkload(t *testing.T, kc kubernetes.Interface, ns, ip string) *discoveryv1.EndpointSlice {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: ns, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			ServiceAccountName: "web",
			Containers: []corev1.Container{{Name: "app", Image: "example/web",
				Ports: []corev1.ContainerPort{{Name: "web-port", ContainerPort: 9090}}}},
		},
	}
	pod, err := kc.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}}
	if _, err := kc.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-abcde", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{ip},
			Conditions: discoveryv1.EndpointConditions{Ready: new(true)},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "web-1"},
		}},
		Ports: []discoveryv1.EndpointPort{{Name: new("http"), Port: new(int32(9090))}},
	}
	out, err := kc.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// gatewayConfig translates the store for a gateway proxy in ns selected by the test Gateway.
func gatewayConfig(s *model.Store, ns string) translate.Resources {
	res, _ := translate.Proxy(translate.Inputs{Store: s, Proxy: model.Proxy{
		ID: "gateway~" + ns, Role: model.RoleGateway, Namespace: ns,
		Labels: map[string]string{"istio": "gw-" + ns},
	}})
	return res
}

func workloadEntry(s *model.Store, ns, name string) *model.WorkloadEntry {
	for _, we := range s.WorkloadEntries {
		if we.Namespace == ns && we.Name == name {
			return we
		}
	}
	return nil
}

func names[T interface{ GetName() string }](xs []T) []string {
	var out []string
	for _, x := range xs {
		out = append(out, x.GetName())
	}
	return out
}

func domains(res translate.Resources) []string {
	var out []string
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			out = append(out, vh.GetDomains()...)
		}
	}
	return out
}

func endpointsOf(res translate.Resources, cluster string) []string {
	var out []string
	for _, cla := range res.Endpoints {
		if cla.GetClusterName() != cluster {
			continue
		}
		for _, le := range cla.GetEndpoints() {
			for _, lb := range le.GetLbEndpoints() {
				sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
				out = append(out, fmt.Sprintf("%s:%d", sa.GetAddress(), sa.GetPortValue()))
			}
		}
	}
	return out
}

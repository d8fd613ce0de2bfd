package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestProtocolOf(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		port corev1.ServicePort
		want string
	}{
		"appProtocol wins":   {corev1.ServicePort{Name: "tcp-x", AppProtocol: new("http")}, "HTTP"},
		"h2c":                {corev1.ServicePort{AppProtocol: new("kubernetes.io/h2c")}, "HTTP2"},
		"unknown appProto":   {corev1.ServicePort{Name: "grpc-api", AppProtocol: new("example.com/x")}, "GRPC"},
		"name prefix":        {corev1.ServicePort{Name: "http-web"}, "HTTP"},
		"name case":          {corev1.ServicePort{Name: "HTTPS"}, "HTTPS"},
		"grpc-web":           {corev1.ServicePort{Name: "grpc-web"}, "GRPC-Web"},
		"unknown stays open": {corev1.ServicePort{Name: "web"}, ""},
	} {
		if got := protocolOf(tc.port); got != tc.want {
			t.Errorf("%s: protocolOf = %q, want %q", name, got, tc.want)
		}
	}
}

func TestServiceAndWorkloadEntries(t *testing.T) {
	t.Parallel()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "foo", ResourceVersion: "7"},
		Spec: corev1.ServiceSpec{
			ClusterIP: "10.0.0.5", ClusterIPs: []string{"10.0.0.5"}, Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, TargetPort: intstr.FromString("web")},
				{Name: "tcp-db", Port: 5432, TargetPort: intstr.FromInt32(15432)},
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
			},
		},
	}
	headless := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "h", Namespace: "foo"},
		Spec: corev1.ServiceSpec{ClusterIP: "None", Ports: []corev1.ServicePort{{Port: 9000}}}}
	ses := serviceEntries([]*corev1.Service{svc, headless})
	wantSE := &networkingv1alpha3.ServiceEntry{
		Hosts: []string{"web.foo.svc.cluster.local"}, Addresses: []string{"10.0.0.5"},
		Resolution: networkingv1alpha3.ServiceEntry_STATIC, Location: networkingv1alpha3.ServiceEntry_MESH_INTERNAL,
		WorkloadSelector: &networkingv1alpha3.WorkloadSelector{Labels: map[string]string{"app": "web"}},
		Ports: []*networkingv1alpha3.ServicePort{
			{Number: 80, Name: "http", Protocol: "HTTP"},
			{Number: 5432, Name: "tcp-db", Protocol: "TCP", TargetPort: 15432},
		},
	}
	if len(ses) != 2 || ses[0].Origin.Resource != "foo/web@7" {
		t.Fatalf("service entries = %v", ses)
	}
	if d := cmp.Diff(wantSE, ses[0].Spec, protocmp.Transform()); d != "" {
		t.Errorf("ServiceEntry (-want +got):\n%s", d)
	}
	if len(ses[1].Spec.GetAddresses()) != 0 {
		t.Errorf("headless service addresses = %v, want none", ses[1].Spec.GetAddresses())
	}

	pod := func(name, ip string, ann map[string]string, containers ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "foo", Labels: map[string]string{"app": "web"}, Annotations: ann},
			Spec:   corev1.PodSpec{ServiceAccountName: "web-sa"},
			Status: corev1.PodStatus{PodIP: ip, Phase: corev1.PodRunning}}
		for _, c := range containers {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c,
				Ports: []corev1.ContainerPort{{Name: "web", ContainerPort: 8080}}})
		}
		return p
	}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "web-x", Namespace: "foo"},
		Endpoints: []discoveryv1.Endpoint{
			{TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "ready"}},
			{TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "meshed"}, Conditions: discoveryv1.EndpointConditions{Ready: new(true)}},
			{TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "unready"}, Conditions: discoveryv1.EndpointConditions{Ready: new(false)}},
			{TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "no-ip"}},
		}}
	wes := workloadEntries([]*corev1.Pod{
		pod("ready", "10.1.0.1", nil, "app"),
		pod("meshed", "10.1.0.2", map[string]string{ProxyAnnotation: "true"}, "app"),
		pod("unready", "10.1.0.3", nil, "app"),
		pod("no-ip", "", nil, "app"),
		pod("unlisted", "10.1.0.4", nil, "app"),
	}, []*discoveryv1.EndpointSlice{slice}, []*corev1.Service{svc})
	if len(wes) != 2 || wes[0].Name != "ready" || wes[1].Name != "meshed" {
		t.Fatalf("workload entries = %v, want ready and meshed", wes)
	}
	want := &networkingv1alpha3.WorkloadEntry{Address: "10.1.0.1", ServiceAccount: "web-sa",
		Labels: map[string]string{"app": "web", TLSModeLabel: "disabled"}, Ports: map[string]uint32{"http": 8080}}
	if d := cmp.Diff(want, wes[0].Spec, protocmp.Transform()); d != "" {
		t.Errorf("WorkloadEntry (-want +got):\n%s", d)
	}
	if got := wes[1].Spec.GetLabels()[TLSModeLabel]; got != "istio" {
		t.Errorf("annotated pod tlsMode = %q, want istio", got)
	}
}

// TestNamedTargetPortsByNamespace: only the Services of the Pod's own namespace name its
// ports, and between two of them giving one port name different targets the first by name
// wins, whatever order the lister returned them in.
func TestNamedTargetPortsByNamespace(t *testing.T) {
	t.Parallel()
	service := func(ns, name, target string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
				Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString(target)}}}}
	}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "foo", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Ports: []corev1.ContainerPort{
			{Name: "a", ContainerPort: 8001}, {Name: "b", ContainerPort: 8002}, {Name: "c", ContainerPort: 8003}}}}},
		Status: corev1.PodStatus{PodIP: "10.1.0.1", Phase: corev1.PodRunning}}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "foo"},
		Endpoints: []discoveryv1.Endpoint{{TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "p"}}}}
	// "aaa" in another namespace sorts first overall but must not apply; "y" comes before "z".
	svcs := []*corev1.Service{service("foo", "z", "a"), service("bar", "aaa", "c"), service("foo", "y", "b")}
	wes := workloadEntries([]*corev1.Pod{p}, []*discoveryv1.EndpointSlice{slice}, svcs)
	if len(wes) != 1 {
		t.Fatalf("workload entries = %v, want one", wes)
	}
	if d := cmp.Diff(map[string]uint32{"http": 8002}, wes[0].Spec.GetPorts()); d != "" {
		t.Errorf("ports (-want +got):\n%s", d)
	}
}

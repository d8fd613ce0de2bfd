//go:build bench

package kube_test

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	securityv1beta1 "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/snapshot"
	"github.com/plainenvoy/controlplane/pkg/sources/kube"
	"github.com/plainenvoy/controlplane/test/e2e"
)

// TestKubeScaleApplyToACK is issue #9's benchmark: 200 namespaces, 2,000 AuthorizationPolicies
// and 5,000 pods (25 per Service) in a real API server, one sidecar proxy connected per
// namespace; then one more policy is created in one namespace and the time until that
// namespace's proxy has its new listeners and ACKed is measured, with the control plane's heap.
// Run: go test -tags bench -run TestKubeScaleApplyToACK -v -timeout 20m ./test/e2e/kube
func TestKubeScaleApplyToACK(t *testing.T) {
	requireAPIServer(t)
	const namespaces, policiesPerNS, podsPerNS = 200, 10, 25
	kc, ic := clients(t)
	ctx := context.Background()
	nss := make([]string, namespaces)
	for i := range nss {
		nss[i] = newNamespace(t, kc, "scale")
	}
	start := time.Now()
	parallel(t, namespaces, func(i int) error { return populate(ctx, kc, ic, nss[i], i, policiesPerNS, podsPerNS) })
	t.Logf("created %d namespaces, %d policies, %d pods in %v", namespaces, namespaces*policiesPerNS, namespaces*podsPerNS, time.Since(start))

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	srv, addr := serveInProcess(t)
	src, err := kube.New(kube.Options{Config: restConfig})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = src.Run(runCtx, func(s *model.Store, _ []model.Problem) { srv.SetStore(s) }); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for !src.Ready() {
		time.Sleep(20 * time.Millisecond)
	}
	clients := make([]*e2e.Client, namespaces)
	for i, ns := range nss {
		c, err := e2e.Dial(ctx, addr, e2e.Node("web-"+ns, "sidecar", ns, map[string]string{"app": "web"}, "web"), false)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		if err := c.Subscribe(resourcev3.ListenerType, nil, "", nil); err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	for _, c := range clients {
		r, err := c.Next(60 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.ACK(r)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("synced and served %d proxies in %v; control-plane heap (informer caches, store, %d group snapshots): %.0f MiB",
		namespaces, time.Since(start), namespaces, float64(after.HeapInuse-before.HeapInuse)/(1<<20))

	for round := range 5 {
		t0 := time.Now()
		if _, err := ic.SecurityV1().AuthorizationPolicies(nss[0]).Create(ctx, policy(nss[0], fmt.Sprintf("added-%d", round)), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		r, err := clients[0].Next(30 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = clients[0].ACK(r)
		t.Logf("round %d: policy created → affected proxy received new listeners and ACKed in %v", round, time.Since(t0))
		if r, err := clients[1].Next(300 * time.Millisecond); err == nil {
			t.Errorf("a proxy in another namespace was pushed (%s)", r.Version)
		}
	}
	endpointChurn(t, ctx, kc, addr, nss)
}

// endpointChurn measures pod churn: one endpoint of one Service goes unready, which changes
// the endpoints every sidecar in the mesh holds, so every group is rebuilt. It reports the time
// until a proxy of another namespace has the new endpoints, and the CPU the process (source,
// server, clients) spent meanwhile.
func endpointChurn(t *testing.T, ctx context.Context, kc kubernetes.Interface, addr string, nss []string) {
	t.Helper()
	c, err := e2e.Dial(ctx, addr, e2e.Node("eds-"+nss[1], "sidecar", nss[1], map[string]string{"app": "web"}, "web"), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Subscribe(resourcev3.EndpointType, nil, "", nil); err != nil {
		t.Fatal(err)
	}
	r, err := c.Next(60 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.ACK(r)
	for round := range 5 {
		slice, err := kc.DiscoveryV1().EndpointSlices(nss[7]).Get(ctx, "web-1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		slice.Endpoints[round].Conditions.Ready = new(false)
		cpu0 := processCPU(t)
		t0 := time.Now()
		if _, err := kc.DiscoveryV1().EndpointSlices(nss[7]).Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		r, err := c.Next(60 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.ACK(r)
		t.Logf("endpoint round %d: one pod unready in %s → a proxy in %s has the new endpoints in %v (process CPU %v)",
			round, nss[7], nss[1], time.Since(t0), processCPU(t)-cpu0)
	}
}

func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func serveInProcess(t *testing.T) (*snapshot.Server, string) {
	t.Helper()
	srv, err := snapshot.New(snapshot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Run(ctx) })
	wg.Go(func() { _ = srv.Serve(ctx, lis, snapshot.ServeOptions{DrainTimeout: time.Second}) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return srv, lis.Addr().String()
}

func parallel(t *testing.T, n int, f func(int) error) {
	t.Helper()
	work := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				if err := f(i); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func populate(ctx context.Context, kc kubernetes.Interface, ic istioclient.Interface, ns string, idx, policies, pods int) error {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}, Spec: corev1.ServiceSpec{
		Selector: map[string]string{"app": "web"},
		Ports:    []corev1.ServicePort{{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(9090)}},
	}}
	if _, err := kc.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return err
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-1", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: new("http"), Port: new(int32(9090))}},
	}
	for j := range pods {
		ip := fmt.Sprintf("10.%d.%d.%d", idx/250, idx%250, j+1)
		name := fmt.Sprintf("web-%d", j)
		pod, err := kc.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": "web"}},
			Spec:       corev1.PodSpec{ServiceAccountName: "web", Containers: []corev1.Container{{Name: "app", Image: "example/web"}}},
		}, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}}
		if _, err := kc.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
			return err
		}
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip},
			Conditions: discoveryv1.EndpointConditions{Ready: new(true)},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: name}})
	}
	if _, err := kc.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		return err
	}
	for k := range policies {
		if _, err := ic.SecurityV1().AuthorizationPolicies(ns).Create(ctx, policy(ns, fmt.Sprintf("p-%d", k)), metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func policy(ns, name string) *securityv1.AuthorizationPolicy {
	return &securityv1.AuthorizationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: securityv1beta1.AuthorizationPolicy{
			Selector: &typev1beta1.WorkloadSelector{MatchLabels: map[string]string{"app": "web"}},
			Rules: []*securityv1beta1.Rule{{
				From: []*securityv1beta1.Rule_From{{Source: &securityv1beta1.Source{Namespaces: []string{name}}}},
				To:   []*securityv1beta1.Rule_To{{Operation: &securityv1beta1.Operation{Methods: []string{"GET"}, Paths: []string{"/" + name + "/*"}}}},
			}},
		},
	}
}

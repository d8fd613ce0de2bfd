package kube_test

import (
	"bufio"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/plainenvoy/controlplane/internal/servelog"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/plainenvoy/controlplane/test/e2e"
)

// TestServeFromCluster runs the real binary with --kubeconfig only: Istio objects, a Service,
// a Pod and an EndpointSlice applied through the API reach a connected gateway proxy over ADS
// as a listener and an endpoint with the Pod's IP.
func TestServeFromCluster(t *testing.T) {
	kc, ic := clients(t)
	ns := newNamespace(t, kc, "serve")
	createGateway(t, ic, ns)
	createVirtualService(t, ic, ns, "web.example.com")
	createWebService(t, kc, ns)
	createWebWorkload(t, kc, ns, "10.9.8.7")

	ads := startServe(t, "--kubeconfig", kubeconfig, "--lease-namespace", ns)
	c, err := e2e.Dial(t.Context(), ads, e2e.Node("gw-"+ns, "gateway", ns, map[string]string{"istio": "gw-" + ns}, ""), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	want := map[string]string{
		resourcev3.ListenerType: "0.0.0.0_80",
		resourcev3.EndpointType: fmt.Sprintf("outbound|8080||web.%s.svc.cluster.local", ns),
	}
	for typ := range want {
		if err := c.Subscribe(typ, nil, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]bool{}
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < len(want) {
		r, err := c.Next(time.Until(deadline))
		if err != nil {
			t.Fatalf("waiting for %v: %v", want, err)
		}
		if _, ok := r.Resources[want[r.TypeURL]]; ok {
			got[r.TypeURL] = true
		}
		if err := c.ACK(r); err != nil {
			t.Fatal(err)
		}
	}
}

// startServe builds and starts `controlplane serve` with the given source flags on loopback
// ports, waits until it is ready, and returns the ADS address.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "controlplane")
	build := exec.Command("go", "build", "-o", bin, "./cmd/controlplane")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--ads-addr", "127.0.0.1:0", "--monitoring-addr", "127.0.0.1:0",
		"--log-format", "json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addrs := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if ads, mon, ok := servelog.Listening(sc.Bytes()); ok {
				addrs <- [2]string{ads, mon}
			}
		}
	}()
	var a [2]string
	select {
	case a = <-addrs:
	case <-time.After(60 * time.Second):
		t.Fatal("controlplane serve did not start")
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + a[1] + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a[0]
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("controlplane serve never became ready (informers did not sync?)")
		}
	}
}

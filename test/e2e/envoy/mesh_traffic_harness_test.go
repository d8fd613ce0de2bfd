package envoy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestMeshTrafficHarness runs without Envoy: the pieces around the sidecars carry a request
// the way the matrix needs. A plain TCP relay stands in for httpbin.foo's sidecar: a caller
// without a sidecar reaches the application through the pod forwarder; a stand-in that resets
// every connection (a STRICT port to a plaintext client) reads as "connection closed"; and no
// sidecar at all is reported by the forwarder, not mistaken for that refusal.
func TestMeshTrafficHarness(t *testing.T) {
	root := repoRoot(t)
	w := newMeshWorld(t, root)
	fw := w.startServers(t, []string{"httpbin.foo", "httpbin.legacy"})
	foo := w.workloads["httpbin.foo"]
	target := w.targetPorts["foo"][8080]
	sidecarAddr := fmt.Sprintf("127.0.0.1:%d", foo.inbound[target])
	appAddr := fmt.Sprintf("127.0.0.1:%d", target)
	legacy := func(server string) meshRequest {
		r, err := w.request(meshCase{caller: "sleep.legacy", server: server, port: 8080, path: "/ip", want: "allowed"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	if got, body, err := send(legacy("httpbin.foo")); err != nil || got.status != 0 || len(fw.takeErrors()) != 1 {
		t.Errorf("no sidecar: got %v %q %v, want the forwarder to report it", got, body, err)
	}
	relay := &forwarders{}
	relay.listen(t, sidecarAddr, appAddr)
	for _, server := range []string{"httpbin.foo", "httpbin.legacy"} {
		r := legacy(server)
		got, body, err := send(r)
		if err != nil || !r.want.matches(got, body) {
			t.Errorf("%s via %s: got %v %q %v, want %v", server, r.addr, got, body, err, r.want)
		}
	}
	if errs := fw.takeErrors(); len(errs) > 0 {
		t.Errorf("forwarder: %v", errs)
	}
}

// TestMeshTrafficHarnessReset: a sidecar that resets the connection reaches the caller as a
// closed connection with no response.
func TestMeshTrafficHarnessReset(t *testing.T) {
	root := repoRoot(t)
	w := newMeshWorld(t, root)
	fw := w.startServers(t, []string{"httpbin.bar"})
	bar := w.workloads["httpbin.bar"]
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", bar.inbound[w.targetPorts["bar"][8080]]))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 1)
			c.Read(buf) // as tls_inspector: look at the first bytes, find no chain, reset
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
	r, err := w.request(meshCase{caller: "sleep.legacy", server: "httpbin.bar", port: 8080, path: "/ip", want: "connection closed"})
	if err != nil {
		t.Fatal(err)
	}
	got, body, err := send(r)
	if err != nil || !r.want.matches(got, body) || r.want.status != 0 {
		t.Errorf("got %v %q %v, want %v", got, body, err, r.want)
	}
	if errs := fw.takeErrors(); len(errs) > 0 {
		t.Errorf("forwarder: %v", errs)
	}
}

// TestEnvoyReady: the readiness probe asks the admin interface what Envoy serves (/ready, and
// the warming gauges by a regex filter) and waits while anything is warming.
func TestEnvoyReady(t *testing.T) {
	warming := "1"
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ready":
			io.WriteString(w, "LIVE\n")
		case "/stats":
			if f := r.URL.Query().Get("filter"); !regexp.MustCompile(f).MatchString("cluster_manager.warming_clusters") {
				http.Error(w, "filter "+f, http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, "cluster_manager.warming_clusters: 0\nlistener_manager.total_listeners_warming: %s\n", warming)
		}
	}))
	t.Cleanup(admin.Close)
	port := admin.Listener.Addr().(*net.TCPAddr).Port
	if err := envoyReady(port); err == nil || !strings.Contains(err.Error(), "total_listeners_warming is 1") {
		t.Errorf("warming listener: %v", err)
	}
	warming = "0"
	if err := envoyReady(port); err != nil {
		t.Error(err)
	}
}

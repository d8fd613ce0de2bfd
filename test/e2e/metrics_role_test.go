package e2e

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/plainenvoy/controlplane/pkg/snapshot"
)

const connectedProxies = "controlplane_xds_connected_proxies"

// TestConnectedProxiesByRole: the connected-proxies gauge counts open ADS streams per role,
// goes down when a stream ends, and labels a proxy whose node names no valid role "unknown"
// (bounded labels: never the raw metadata value).
func TestConnectedProxiesByRole(t *testing.T) {
	for mode, delta := range modes {
		t.Run(mode, func(t *testing.T) {
			srv := startServer(t, snapshot.Options{Translate: handMade})
			srv.SetStore(storeWith("foo/a"))
			connect := func(node *corev3.Node) *Client {
				c := dial(t, srv.Addr, node, delta)
				if err := c.Subscribe(cds, nil, "", nil); err != nil {
					t.Fatal(err)
				}
				next(t, c) // the stream has been identified: its first request carried the node
				return c
			}
			gw1 := connect(gatewayNode("gw-1", "foo"))
			connect(gatewayNode("gw-2", "foo"))
			connect(Node("sc-1", "sidecar", "foo", map[string]string{"app": "a"}, "a"))
			want := map[string]float64{"gateway": 2, "sidecar": 1, "unknown": 0}
			waitForConnected(t, srv, want)

			gw1.Close()
			want["gateway"] = 1
			waitForConnected(t, srv, want)

			connect(Node("odd-1", "", "foo", nil, ""))
			connect(Node("odd-2", "ingress", "foo", nil, ""))
			want["unknown"] = 2
			waitForConnected(t, srv, want)
		})
	}
}

// waitForConnected waits until the gauge has want for each role (closing a stream is
// asynchronous on the server) and that no other role label exists.
func waitForConnected(t *testing.T, srv *testServer, want map[string]float64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := connectedByRole(t, srv)
		ok := len(got) <= len(want)
		for role, n := range want {
			ok = ok && got[role] == n
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", connectedProxies, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// connectedByRole reads the gauge's series by role label.
func connectedByRole(t *testing.T, srv *testServer) map[string]float64 {
	t.Helper()
	families, err := srv.Reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != connectedProxies {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "role" {
					out[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	return out
}

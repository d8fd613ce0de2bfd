package e2e

import (
	"maps"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/plainenvoy/controlplane/pkg/snapshot"
)

const (
	cds = resourcev3.ClusterType
	lds = resourcev3.ListenerType
)

var modes = map[string]bool{"sotw": false, "delta": true}

// subscribe asks for clusters then listeners (wildcard) and returns both responses, unACKed.
func subscribe(t *testing.T, c *Client) (cluster, listener Response) {
	t.Helper()
	for _, typ := range []string{cds, lds} {
		if err := c.Subscribe(typ, nil, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]Response{}
	for len(got) < 2 {
		r := next(t, c)
		got[r.TypeURL] = r
	}
	return got[cds], got[lds]
}

func TestResourcesArriveAndACKMovesVersion(t *testing.T) {
	for mode, delta := range modes {
		t.Run(mode, func(t *testing.T) {
			srv := startServer(t, snapshot.Options{Translate: handMade})
			srv.SetStore(storeWith("foo/a"))
			c := dial(t, srv.Addr, gatewayNode("gw-1", "foo"), delta)
			cl, li := subscribe(t, c)
			if _, ok := cl.Resources["backend"]; !ok {
				t.Fatalf("clusters = %v, want backend", slicesOf(cl.Resources))
			}
			if _, ok := li.Resources["main"]; !ok {
				t.Fatalf("listeners = %v, want main", slicesOf(li.Resources))
			}
			ps := proxyStatus(t, srv.Server, "gw-1", func(ps snapshot.ProxyStatus) bool { return ps.Types["cds"].State == "STALE" })
			if ps.Types["cds"].Acked != "" {
				t.Fatalf("acked before any ACK: %+v", ps.Types["cds"])
			}
			if err := c.ACK(cl); err != nil {
				t.Fatal(err)
			}
			ps = proxyStatus(t, srv.Server, "gw-1", func(ps snapshot.ProxyStatus) bool { return ps.Types["cds"].State == "SYNCED" })
			if ps.Types["cds"].Acked != cl.Version || ps.Delta != delta {
				t.Fatalf("status %+v, want cds acked %s", ps, cl.Version)
			}
		})
	}
}

func TestNACKRecordedAndNotResent(t *testing.T) {
	for mode, delta := range modes {
		t.Run(mode, func(t *testing.T) {
			srv := startServer(t, snapshot.Options{Translate: handMade})
			srv.SetStore(storeWith())
			c := dial(t, srv.Addr, gatewayNode("gw-1", "foo"), delta)
			cl, li := subscribe(t, c)
			if err := c.ACK(li); err != nil {
				t.Fatal(err)
			}
			if err := c.NACK(cl, "cluster backend: bad"); err != nil {
				t.Fatal(err)
			}
			ps := proxyStatus(t, srv.Server, "gw-1", func(ps snapshot.ProxyStatus) bool { return ps.Types["cds"].LastNACK != nil })
			if n := ps.Types["cds"]; n.LastNACK.Version != cl.Version || n.LastNACK.Message != "cluster backend: bad" || n.Acked != "" || n.State != "NACKED" {
				t.Fatalf("cds status %+v, want NACK of %s recorded, nothing ACKed", n, cl.Version)
			}
			if got := metricValue(t, srv, "controlplane_xds_nacks_total"); got != 1 {
				t.Fatalf("nacks metric = %v, want 1", got)
			}
			// The rejected version is parked: no resend.
			expectNothing(t, c)

			// The next real change is sent, once.
			srv.SetStore(storeWith("foo/a"))
			r := next(t, c)
			if r.TypeURL != cds || r.Version == cl.Version {
				t.Fatalf("after change got %s %s, want a new cds version", r.TypeURL, r.Version)
			}
			if err := c.ACK(r); err != nil {
				t.Fatal(err)
			}
			expectNothing(t, c)
		})
	}
}

func TestChangeReachesOnlyAffectedGroups(t *testing.T) {
	srv := startServer(t, snapshot.Options{Translate: handMade})
	srv.SetStore(storeWith("foo/a", "bar/a"))
	foo := dial(t, srv.Addr, gatewayNode("gw-foo", "foo"), false)
	bar := dial(t, srv.Addr, gatewayNode("gw-bar", "bar"), true)
	var fooCl Response
	for _, c := range []*Client{foo, bar} {
		cl, li := subscribe(t, c)
		if c == foo {
			fooCl = cl
		}
		for _, r := range []Response{cl, li} {
			if err := c.ACK(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Versions are content hashes, so a rebuilt but unchanged group pushes nothing: only the
	// build counter shows whether the edit rebuilt bar's group too.
	builds := metricValue(t, srv, buildsTotal)
	srv.SetStore(storeWith("foo/a", "foo/b", "bar/a"))
	r := next(t, foo)
	if r.TypeURL != cds || r.Version == fooCl.Version {
		t.Fatalf("foo got %s %s, want a new cds version", r.TypeURL, r.Version)
	}
	if err := foo.ACK(r); err != nil {
		t.Fatal(err)
	}
	// The listener did not change: its type is not re-sent.
	expectNothing(t, foo)
	expectNothing(t, bar)
	const affected = 1 // foo's group; the edit is in namespace foo only
	if got := metricValue(t, srv, buildsTotal) - builds; got != affected {
		t.Fatalf("the edit in foo made %v group builds, want %d (only the affected group)", got, affected)
	}
}

// buildsTotal counts group builds of every outcome (changed, unchanged, failed).
const buildsTotal = "controlplane_snapshot_builds_total"

func TestInvalidConfigKeepsLastGood(t *testing.T) {
	srv := startServer(t, snapshot.Options{Translate: handMade})
	srv.SetStore(storeWith())
	c := dial(t, srv.Addr, gatewayNode("gw-1", "foo"), false)
	cl, li := subscribe(t, c)
	for _, r := range []Response{cl, li} {
		if err := c.ACK(r); err != nil {
			t.Fatal(err)
		}
	}
	srv.SetStore(storeWith("foo/make-invalid"))
	waitFor(t, func() bool {
		return metricValue(t, srv, "controlplane_snapshot_config_errors_total") == 1
	})
	expectNothing(t, c)
	ps := proxyStatus(t, srv.Server, "gw-1", func(snapshot.ProxyStatus) bool { return true })
	if ps.Types["cds"].Current != cl.Version {
		t.Fatalf("served cds %s, want the last good %s", ps.Types["cds"].Current, cl.Version)
	}
}

func TestSotWAndDeltaGiveSameResources(t *testing.T) {
	srv := startServer(t, snapshot.Options{Translate: handMade})
	srv.SetStore(storeWith("foo/a"))
	sotwCl, sotwLi := subscribe(t, dial(t, srv.Addr, gatewayNode("gw-sotw", "foo"), false))
	deltaCl, deltaLi := subscribe(t, dial(t, srv.Addr, gatewayNode("gw-delta", "foo"), true))
	if !maps.EqualFunc(sotwCl.Resources, deltaCl.Resources, bytesEqual) || !maps.EqualFunc(sotwLi.Resources, deltaLi.Resources, bytesEqual) {
		t.Fatal("SotW and delta resources differ")
	}
	if sotwCl.Version != deltaCl.Version {
		t.Fatalf("cds versions differ: sotw %s, delta %s", sotwCl.Version, deltaCl.Version)
	}
}

func TestReconnectToNewServerSameVersionsNoPush(t *testing.T) {
	for mode, delta := range modes {
		t.Run(mode, func(t *testing.T) {
			first := startServer(t, snapshot.Options{Translate: handMade})
			first.SetStore(storeWith("foo/a"))
			c := dial(t, first.Addr, gatewayNode("gw-1", "foo"), delta)
			cl, li := subscribe(t, c)
			c.Close()

			// Another replica (or this one restarted) with the same inputs.
			second := startServer(t, snapshot.Options{Translate: handMade})
			second.SetStore(storeWith("foo/a"))
			c = dial(t, second.Addr, gatewayNode("gw-1", "foo"), delta)
			for _, r := range []Response{cl, li} {
				if err := c.Subscribe(r.TypeURL, nil, r.Version, r.ResourceVersions); err != nil {
					t.Fatal(err)
				}
			}
			if !delta {
				expectNothing(t, c)
				return
			}
			// Delta answers the first wildcard request even when nothing changed, with no resources.
			for range 2 {
				if r := next(t, c); len(r.Resources) != 0 || len(r.Removed) != 0 {
					t.Fatalf("delta resent %v after reconnect", slicesOf(r.Resources))
				}
			}
			expectNothing(t, c)
		})
	}
}

func TestIdleGroupDropped(t *testing.T) {
	srv := startServer(t, snapshot.Options{Translate: handMade, IdleTimeout: 20 * time.Millisecond})
	srv.SetStore(storeWith())
	c := dial(t, srv.Addr, gatewayNode("gw-1", "foo"), false)
	subscribe(t, c)
	if got := metricValue(t, srv, "controlplane_snapshot_groups"); got != 1 {
		t.Fatalf("groups = %v, want 1", got)
	}
	c.Close()
	waitFor(t, func() bool { return metricValue(t, srv, "controlplane_snapshot_groups") == 0 })

	// A proxy of the dropped group that comes back gets its configuration again.
	c = dial(t, srv.Addr, gatewayNode("gw-1", "foo"), false)
	if cl, _ := subscribe(t, c); len(cl.Resources) != 1 {
		t.Fatalf("after re-connect got %v", slicesOf(cl.Resources))
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

func slicesOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// metricValue sums every series of a counter or gauge.
func metricValue(t *testing.T, srv *testServer, name string) float64 {
	t.Helper()
	families, err := srv.Reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

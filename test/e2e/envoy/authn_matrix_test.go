package envoy

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"
)

// TestAuthenticationPolicyMatrix replays Istio's authentication-policy task with real Envoys:
// sleep and httpbin in foo and bar with sidecars, legacy without, on one host (see meshWorld
// for how ports and pod addresses move to loopback). The control plane serves the example's
// base/ with its CA; every sidecar proves its identity with a certificate from `controlplane
// ca issue`. For each step of examples/mesh/README.md, in order, the step's files replace the
// previous ones in the watched directory, the suite waits until every sidecar ACKed a
// configuration matching them, and each request of the step's table and list must end as
// the README says.
//
// Explicit-mode sidecars bind their outbound listeners on their pod's address
// (outbound_address metadata: <127.0.N.M>:<service port>), so every call goes through the
// sidecar of the caller the README names and no other.
func TestAuthenticationPolicyMatrix(t *testing.T) {
	envoy := envoyBin(t)
	root := repoRoot(t)
	w := newMeshWorld(t, root)
	cases := loadMeshCases(t, root)
	steps, byStep := meshSteps(cases)
	requests := map[int]meshRequest{}
	servers := map[string]bool{}
	for _, c := range cases {
		r, err := w.request(c)
		if err != nil {
			t.Fatal(err)
		}
		requests[c.line], servers[c.server] = r, true
	}
	fw := w.startServers(t, slices.Sorted(maps.Keys(servers)))
	bootstraps, nodes := w.startControlPlane(t)
	for _, name := range slices.Sorted(maps.Keys(bootstraps)) {
		start(t, envoy, "", "-c", bootstraps[name], "--disable-hot-restart", "--concurrency", "1",
			"-l", envoyLogLevel(), "--drain-time-s", "1")
	}

	for i, step := range steps {
		if err := w.applyStep(step); err != nil {
			t.Fatal(err)
		}
		if err := w.waitSynced(t.Context(), nodes); err != nil {
			t.Fatalf("step %s: %v", step, err)
		}
		w.waitEnvoysReady(t)
		if i == 0 {
			w.checkProven(t, nodes)
		}
		for _, c := range byStep[step] {
			r := requests[c.line]
			t.Run(fmt.Sprintf("%s/%s->%s:%d", step, c.caller, c.server, c.port), func(t *testing.T) {
				got, body, err := send(r)
				if err != nil {
					t.Fatalf("%v: GET http://%s%s (Host %s, via %q): %v", c, r.addr, r.path, r.host, r.via, err)
				}
				if !r.want.matches(got, body) {
					t.Errorf("%v: GET http://%s%s (Host %s, via %q): got %v %q, README wants %v",
						c, r.addr, r.path, r.host, r.via, got, body, r.want)
				}
				for _, e := range fw.takeErrors() {
					t.Errorf("%v: %s", c, e)
				}
			})
		}
	}
}

// waitEnvoysReady waits until every sidecar's Envoy is live with nothing warming.
func (w *meshWorld) waitEnvoysReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(syncTimeout)
	for _, wl := range w.sidecars() {
		for err := envoyReady(wl.adminPort); err != nil; err = envoyReady(wl.adminPort) {
			if time.Now().After(deadline) {
				t.Fatalf("%s's Envoy (admin 127.0.0.1:%d): %v", wl.name(), wl.adminPort, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

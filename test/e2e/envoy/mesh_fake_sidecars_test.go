package envoy

import (
	"testing"
)

// TestMeshSidecarsWithoutEnvoy runs everything of TestAuthenticationPolicyMatrix up to
// starting Envoy, with an ADS client in Envoy's place: the real binary serves the moved base
// with its CA; each sidecar's bootstrap is written, and a client that reads it connects with
// the certificate files it names, proves its identity and ACKs; then, for every step of the
// README, the files change and the wait the Envoy suite uses must see every sidecar served
// the step's configuration and ACK it.
func TestMeshSidecarsWithoutEnvoy(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and runs the control plane binary")
	}
	root := repoRoot(t)
	w := newMeshWorld(t, root)
	steps, _ := meshSteps(loadMeshCases(t, root))
	bootstraps, nodes := w.startControlPlane(t)

	var fakes []*fakeSidecar
	for _, name := range w.workloadNames() {
		path, ok := bootstraps[name]
		if !ok {
			continue
		}
		f, err := dialFakeSidecar(t.Context(), path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(f.Close)
		fakes = append(fakes, f)
	}
	for i, step := range steps {
		if err := w.applyStep(step); err != nil {
			t.Fatal(err)
		}
		if err := w.waitSynced(t.Context(), nodes); err != nil {
			t.Fatalf("step %s: %v", step, err)
		}
		for _, f := range fakes {
			if err := f.Err(); err != nil {
				t.Fatalf("step %s: fake sidecar %s: %v", step, f.client.Node.GetId(), err)
			}
		}
		if i == 0 {
			w.checkProven(t, nodes)
		}
	}
}

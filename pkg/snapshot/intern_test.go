package snapshot

import (
	"runtime"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/plainenvoy/controlplane/pkg/translate"
)

// TestGroupsShareEqualResources: two groups' builds of the same clusters share one marshalled
// copy; a changed cluster is not shared; and once no snapshot holds a resource, the table
// forgets it.
func TestGroupsShareEqualResources(t *testing.T) {
	table := newInternTable()
	a, err := build(benchResources(3, 0), table)
	if err != nil {
		t.Fatal(err)
	}
	b, err := build(benchResources(3, 0), table)
	if err != nil {
		t.Fatal(err)
	}
	c, err := build(benchResources(3, 1), table) // every cluster's timeout differs
	if err != nil {
		t.Fatal(err)
	}
	ca, cb, cc := a.prepared.get(resourcev3.ClusterType), b.prepared.get(resourcev3.ClusterType), c.prepared.get(resourcev3.ClusterType)
	for i := range ca.anys {
		if ca.anys[i] != cb.anys[i] || ca.deltas[i] != cb.deltas[i] {
			t.Errorf("cluster %s: equal bytes not shared", ca.names[i])
		}
		if ca.anys[i] == cc.anys[i] {
			t.Errorf("cluster %s: different bytes shared", ca.names[i])
		}
	}
	if got := table.len(); got != 8 { // 3 + 3 clusters, 2 listeners
		t.Fatalf("table holds %d resources, want 8", got)
	}
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
	a, b, c = built{}, built{}, built{}
	deadline := time.Now().Add(10 * time.Second)
	for table.len() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("table still holds %d resources no snapshot uses", table.len())
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

// TestConfigDecodesServedBytes: groups keep only bytes; what `controlplane config` shows is
// decoded from them and equals what was translated.
func TestConfigDecodesServedBytes(t *testing.T) {
	r := benchResources(4, 0)
	b, err := build(r, newInternTable())
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.prepared.resources()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Clusters) != 4 || len(got.Listeners) != 1 || got.Clusters[2].GetName() != r.Clusters[2].GetName() ||
		len(got.Listeners[0].GetFilterChains()) != 4 {
		t.Fatalf("decoded %d clusters, %d listeners; want what was built", len(got.Clusters), len(got.Listeners))
	}
}

// TestSharedInvalidResourceRejectedInEveryGroup: a resource is marked checked only when it
// passed, so a second group sharing an invalid resource is refused too, and a valid one shared
// by two groups passes in both.
func TestSharedInvalidResourceRejectedInEveryGroup(t *testing.T) {
	table := newInternTable()
	bad := benchResources(1, 0)
	bad.Clusters[0].ConnectTimeout.Seconds = -1 // ValidateAll: connect_timeout must be positive
	for group := range 2 {
		b, err := build(bad, table)
		if err != nil {
			t.Fatal(err)
		}
		if err := check(bad, b.snap, b.shared); err == nil {
			t.Fatalf("group %d: an invalid shared cluster passed the check", group)
		}
	}
	good := benchResources(1, 0)
	for group := range 2 {
		b, err := build(good, table)
		if err != nil {
			t.Fatal(err)
		}
		if err := check(good, b.snap, b.shared); err != nil {
			t.Fatalf("group %d: %v", group, err)
		}
		if sr := b.shared[good.Clusters[0]]; sr == nil || !sr.validated.Load() {
			t.Fatalf("group %d: the valid cluster is not marked checked", group)
		}
	}
}

// TestSharedMessageMarshalledOnce: a cluster message translation shares between groups is
// marshalled by the first group's build only; the next build takes its bytes as they are, and
// the table forgets the message once it is collected.
func TestSharedMessageMarshalledOnce(t *testing.T) {
	table := newInternTable()
	r := benchResources(2, 0)
	a, err := build(r, table)
	if err != nil {
		t.Fatal(err)
	}
	if table.known(r.Clusters[0]) == nil {
		t.Fatal("a built cluster message is not remembered")
	}
	// Messages are read-only once built; changing one here shows whether the second build
	// marshals it again (new bytes, new version) or takes the remembered bytes.
	r.Clusters[0].ConnectTimeout.Seconds++
	b, err := build(r, table)
	if err != nil {
		t.Fatal(err)
	}
	if a.prepared.get(resourcev3.ClusterType).anys[0] != b.prepared.get(resourcev3.ClusterType).anys[0] ||
		a.version != b.version {
		t.Fatal("the same message was marshalled again")
	}
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	r = translate.Resources{}
	deadline := time.Now().Add(10 * time.Second)
	for {
		table.mu.Lock()
		n := len(table.byCluster)
		table.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("table still remembers %d collected cluster messages", n)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

package snapshot

import (
	"runtime"
	rtmetrics "runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestHeapPastHalfway: false right after a collection, true once three quarters of what the
// collector allows before its next cycle has been allocated.
func TestHeapPastHalfway(t *testing.T) {
	runtime.GC()
	if heapPastHalfway() {
		t.Fatal("heap past halfway right after a collection")
	}
	s := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/goal:bytes"}}
	rtmetrics.Read(s)
	ballast := make([]byte, (s[1].Value.Uint64()-s[0].Value.Uint64())*3/4)
	if !heapPastHalfway() {
		t.Fatal("heap not past halfway after allocating three quarters of the way")
	}
	runtime.KeepAlive(ballast)
}

// TestCollectsWhenPushHasFinished: with CollectWhenIdle, once no response has been sent for
// gcQuiet after a push and the heap is past halfway to the goal, one collection runs.
func TestCollectsWhenPushHasFinished(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(Options{CollectWhenIdle: true, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32
	var askedAt atomic.Int64
	s.gc.due = func() bool { askedAt.Store(time.Now().UnixNano()); asked.Add(1); return true }
	before := numGC()
	// A response "sent" in the future stands for a push still going on: nothing may be
	// collected until gcQuiet after it.
	lastSend := time.Now().Add(100 * time.Millisecond)
	s.gc.sending(lastSend)
	s.afterPush(t.Context())
	s.afterPush(t.Context()) // a second push while the first waits: still one waiter
	for deadline := time.Now().Add(5 * time.Second); testutil.ToFloat64(s.metrics.idleGCs) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no collection after the push finished")
		}
	}
	if numGC() == before {
		t.Error("the idle collection was counted but did not run")
	}
	if at := time.Unix(0, askedAt.Load()); at.Before(lastSend.Add(gcQuiet)) {
		t.Errorf("collected %v after the last send, want at least %v of quiet", at.Sub(lastSend), gcQuiet)
	}
	for s.gc.watching.Load() {
		time.Sleep(time.Millisecond)
	}
	if got := testutil.ToFloat64(s.metrics.idleGCs); got != 1 || asked.Load() != 1 {
		t.Errorf("%v idle collections after %d checks, want 1 and 1", got, asked.Load())
	}
}

// TestNoIdleCollectionUnlessAsked: without CollectWhenIdle the runtime's pacer alone decides.
func TestNoIdleCollectionUnlessAsked(t *testing.T) {
	s, err := New(Options{Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	s.gc.due = func() bool { return true }
	s.afterPush(t.Context())
	if s.gc.watching.Load() {
		t.Fatal("a waiter started although CollectWhenIdle is off")
	}
	time.Sleep(2 * gcQuiet)
	if got := testutil.ToFloat64(s.metrics.idleGCs); got != 0 {
		t.Errorf("%v idle collections, want none", got)
	}
}

func numGC() uint32 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.NumGC
}

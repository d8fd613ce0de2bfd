package snapshot

import (
	"context"
	"runtime"
	rtmetrics "runtime/metrics"
	"sync/atomic"
	"time"
)

// A push allocates (requests decoded, responses framed, grpc-go's write buffers), and the
// garbage collector starts when the heap reaches its goal: that is, during a push. The cycle
// then runs beside the push, and the pushing goroutines are made to help mark (GC assist). In
// the 1,000-proxy benchmark a round with a cycle cost the server twice the CPU (≈ 40 ms more)
// and was the slowest round of its run. A control plane is idle most of the time between
// pushes, so when a push has finished and the heap has used more than half of its way to the
// goal, the collection is run then instead. It does not add cycles: it brings forward by a
// little one that the next pushes would have started.

// gcQuiet is how long no response may have been sent before the push counts as finished.
const gcQuiet = 50 * time.Millisecond

// idleGC runs collections between pushes (Options.CollectWhenIdle).
type idleGC struct {
	lastSend atomic.Int64 // unix nanoseconds of the last response sent
	watching atomic.Bool  // a goroutine is waiting for the current push to finish
	// due reports whether a collection is worth running now: heapPastHalfway, or a test's own.
	due func() bool
}

// sending records that a response is being sent.
func (g *idleGC) sending(now time.Time) { g.lastSend.Store(now.UnixNano()) }

// afterPush waits, in the background, until no response has been sent for gcQuiet, and then
// collects if the heap is past half its way to the goal. One waiter at a time.
func (s *Server) afterPush(ctx context.Context) {
	if !s.opts.CollectWhenIdle || !s.gc.watching.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.gc.watching.Store(false)
		t := time.NewTimer(gcQuiet)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if quiet := time.Since(time.Unix(0, s.gc.lastSend.Load())); quiet < gcQuiet {
				t.Reset(gcQuiet - quiet)
				continue
			}
			if s.gc.due() {
				runtime.GC()
				s.metrics.idleGCs.Inc()
			}
			return
		}
	}()
}

// heapPastHalfway reports whether the heap has grown, since the last collection, by more than
// half of what the collector allows before the next one.
func heapPastHalfway() bool {
	sample := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/goal:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(sample)
	for _, m := range sample {
		if m.Value.Kind() != rtmetrics.KindUint64 {
			return false // not provided by this runtime: leave it to the pacer
		}
	}
	live, goal, now := sample[0].Value.Uint64(), sample[1].Value.Uint64(), sample[2].Value.Uint64()
	return goal > live && now > live+(goal-live)/2
}

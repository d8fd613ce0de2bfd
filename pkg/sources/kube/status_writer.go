package kube

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/workqueue"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// fieldManager names our status writes in managedFields.
const fieldManager = "plainenvoy-controlplane"

// statusWriter writes validation problems to the status of Istio objects while this replica
// leads. It never blocks translation: emit only swaps in the latest problems and queues the
// keys whose problems changed; one goroutine (run) does the API calls, rate limited by the
// workqueue (per-object exponential backoff on failure, and an overall token bucket).
type statusWriter struct {
	log     *slog.Logger
	metrics *metrics
	kinds   map[model.Kind]statusKind
	queue   workqueue.TypedRateLimitingInterface[objectKey]

	mu      sync.Mutex
	leading bool
	desired map[objectKey][]model.Problem // of every Istio object in the last store
}

func newStatusWriter(s *Source, in *informers) *statusWriter {
	limiter := workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[objectKey](100*time.Millisecond, 2*time.Minute),
		&workqueue.TypedBucketRateLimiter[objectKey]{Limiter: rate.NewLimiter(rate.Limit(10), 50)},
	)
	return &statusWriter{
		log: s.log.With("component", "kube-status"), metrics: s.metrics,
		kinds: statusKinds(s.istio, in),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(limiter,
			workqueue.TypedRateLimitingQueueConfig[objectKey]{Name: ""}),
		desired: map[objectKey][]model.Problem{},
	}
}

// update records the problems of the latest store and queues the objects whose problems
// changed (new objects included). Problems carry the resourceVersion in their origin, so an
// edited object that still has problems is checked again (its observedGeneration moved). Deleted objects need nothing: their status went with them.
func (w *statusWriter) update(byObject map[objectKey][]model.Problem) {
	w.mu.Lock()
	defer w.mu.Unlock()
	prev := w.desired
	w.desired = byObject
	if !w.leading {
		return
	}
	for k, ps := range byObject {
		if old, ok := prev[k]; !ok || !slices.Equal(old, ps) {
			w.queue.AddRateLimited(k)
		}
	}
}

// setLeading starts or stops writing. A new leader checks every object once, since the
// previous leader may have stopped in the middle.
func (w *statusWriter) setLeading(leading bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.leading = leading
	if !leading {
		return
	}
	for k := range w.desired {
		w.queue.AddRateLimited(k)
	}
}

// run processes the queue until ctx is done.
func (w *statusWriter) run(ctx context.Context) {
	stopped := make(chan struct{})
	go func() { // unblocks queue.Get once ctx is done
		defer close(stopped)
		<-ctx.Done()
		w.queue.ShutDown()
	}()
	for w.processNext(ctx) {
	}
	<-stopped
}

func (w *statusWriter) processNext(ctx context.Context) bool {
	key, shutdown := w.queue.Get()
	if shutdown {
		return false
	}
	defer w.queue.Done(key)
	w.mu.Lock()
	leading := w.leading
	problems, exists := w.desired[key]
	w.mu.Unlock()
	if !leading || !exists {
		w.queue.Forget(key)
		return true
	}
	kind := w.kinds[key.kind]
	wrote, err := kind.sync(ctx, key.namespace, key.name, problems, time.Now())
	switch {
	case err == nil:
		w.queue.Forget(key)
		if wrote {
			w.metrics.statusWrites.WithLabelValues(writeOK).Inc()
			w.log.Debug("status written", "kind", key.kind, "namespace", key.namespace, "name", key.name)
		}
	case ctx.Err() != nil:
	case apierrors.IsConflict(err):
		// The cache was behind the API server; retry once the informer has the new version.
		w.metrics.statusWrites.WithLabelValues(writeConflict).Inc()
		w.queue.AddRateLimited(key)
	default:
		w.metrics.statusWrites.WithLabelValues(writeError).Inc()
		w.log.Warn("cannot write status", "kind", key.kind, "namespace", key.namespace, "name", key.name,
			"err", fmt.Errorf("update status: %w", err))
		w.queue.AddRateLimited(key)
	}
	return true
}

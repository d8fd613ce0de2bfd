package kube

import (
	"context"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/prometheus/client_golang/prometheus"
)

// refSyncTimeout bounds how long a build waits for the first list of newly referenced
// Secrets, so the store it publishes already holds them; a watch that cannot list (RBAC)
// delays one build by this much and is then read as empty until it syncs.
const refSyncTimeout = 5 * time.Second

// secretWatches runs one informer per referenced Secret that the kubernetes.io/tls informer
// does not see: its field selector is metadata.name=<name>,type!=kubernetes.io/tls in the
// Secret's namespace, so the API server sends only that one object and only its data is ever
// cached. Watches start and stop as references appear and go (update). Every method is
// called from Run's goroutine.
type secretWatches struct {
	kc      kubernetes.Interface
	log     *slog.Logger
	onEvent func()           // set by addHandlers: counts the event and marks the state dirty
	gauge   prometheus.Gauge // set by addHandlers: how many watches run
	ctx     context.Context
	wg      *sync.WaitGroup
	running map[secretKey]*secretWatch
}

type secretWatch struct {
	informer cache.SharedIndexInformer
	cancel   context.CancelFunc
}

func newSecretWatches(kc kubernetes.Interface, log *slog.Logger) *secretWatches {
	return &secretWatches{kc: kc, log: log, onEvent: func() {}, running: map[secretKey]*secretWatch{}}
}

// start records the context the watches run under (they stop with it) and the WaitGroup
// that Run waits on for their goroutines.
func (w *secretWatches) start(ctx context.Context, wg *sync.WaitGroup) {
	w.ctx, w.wg = ctx, wg
}

// update makes the running watches exactly want: new references get a watch, which update
// waits for (at most refSyncTimeout), and watches nothing references any more are stopped,
// their Secret leaving the next store.
func (w *secretWatches) update(want map[secretKey]bool) {
	defer func() {
		if w.gauge != nil {
			w.gauge.Set(float64(len(w.running)))
		}
	}()
	for k, sw := range w.running {
		if !want[k] {
			sw.cancel()
			delete(w.running, k)
			w.log.Debug("stopped watching unreferenced secret", "namespace", k.namespace, "name", k.name)
		}
	}
	if w.ctx == nil || w.ctx.Err() != nil {
		return // not started, or shutting down
	}
	var started []cache.InformerSynced
	for k := range want {
		if _, ok := w.running[k]; ok {
			continue
		}
		sw, err := w.watch(k)
		if err != nil {
			w.log.Error("cannot watch referenced secret", "namespace", k.namespace, "name", k.name, "err", err)
			continue
		}
		w.running[k] = sw
		started = append(started, sw.informer.HasSynced)
	}
	if len(started) == 0 {
		return
	}
	err := wait.PollUntilContextTimeout(w.ctx, 10*time.Millisecond, refSyncTimeout, true,
		func(context.Context) (bool, error) {
			for _, synced := range started {
				if !synced() {
					return false, nil
				}
			}
			return true, nil
		})
	if err != nil && w.ctx.Err() == nil {
		w.log.Warn("referenced secrets not listed in time; the store is published without them until they are",
			"timeout", refSyncTimeout, "watches", len(started))
	}
}

// watch starts the informer of one Secret.
func (w *secretWatches) watch(k secretKey) (*secretWatch, error) {
	sel := fields.AndSelectors(
		fields.OneTermEqualSelector("metadata.name", k.name),
		fields.OneTermNotEqualSelector("type", string(corev1.SecretTypeTLS)), // the TLS informer has those
	).String()
	inf := coreinformers.NewFilteredSecretInformer(w.kc, k.namespace, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.FieldSelector = sel })
	mark := func(any) { w.onEvent() }
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: mark, UpdateFunc: func(_, n any) { mark(n) }, DeleteFunc: mark,
	}); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(w.ctx)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		inf.RunWithContext(ctx)
	}()
	return &secretWatch{informer: inf, cancel: cancel}, nil
}

// secrets returns the cached Secrets of every running watch (at most one each).
func (w *secretWatches) secrets() []*corev1.Secret {
	var out []*corev1.Secret
	for _, sw := range w.running {
		for _, o := range sw.informer.GetStore().List() {
			if s, ok := o.(*corev1.Secret); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// withoutTLSSecrets drops the references the kubernetes.io/tls informers already hold: their
// single-Secret watch (type!=kubernetes.io/tls) would never see the Secret, only cost a LIST
// and a WATCH. A Secret's type is immutable, so the only way such a name becomes another
// type is delete and re-create, and the delete event triggers a build that adds it back.
func withoutTLSSecrets(refs map[secretKey]bool, tls []corelisters.SecretLister) map[secretKey]bool {
	for k := range refs {
		for _, l := range tls {
			if _, err := l.Secrets(k.namespace).Get(k.name); err == nil {
				delete(refs, k)
				break
			}
		}
	}
	return refs
}

package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// Options configure a Source. Zero values are the documented defaults.
type Options struct {
	Config *rest.Config // API server connection; required
	Mesh   model.Mesh   // given to validation and the stores built
	// Debounce coalesces bursts: an event after a quiet spell of Debounce is published at
	// once; events that follow it within Debounce are published together once Debounce has
	// passed without one (at most ten Debounce periods in a steady stream), so a burst (a
	// kubectl apply of many objects, a rollout) gives two publishes. Default 100ms.
	Debounce   time.Duration
	Log        *slog.Logger          // default: discard
	Registerer prometheus.Registerer // metrics are not registered when nil

	// StatusWriter enables status write-back: validation problems are written to each Istio
	// object's status by the replica holding the Lease LeaseNamespace/LeaseName.
	StatusWriter   bool
	LeaseNamespace string // required with StatusWriter
	LeaseName      string // default "controlplane-status"
	Identity       string // leader-election identity; default the host name (the pod name)
	// LeaseDuration is how long a lost leader blocks the others. Default 15s; the renew
	// deadline is 2/3 of it and the retry period 1/5.
	LeaseDuration time.Duration

	// SecretNamespaces limits the Secrets watched to these namespaces (where gateways run),
	// so RBAC can grant Secret access there only: the kubernetes.io/tls Secrets, and the
	// Secrets of other types that a credentialName references. Empty watches every namespace.
	SecretNamespaces []string
}

// Source watches the API server and publishes model stores.
type Source struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	kube    kubernetes.Interface
	istio   istioclient.Interface
	ready   atomic.Bool
	mu      sync.Mutex // guards leader
	leader  bool
}

// New checks opts, builds the clients and registers the metrics. It does not contact the
// API server.
func New(opts Options) (*Source, error) {
	if opts.Config == nil {
		return nil, errors.New("kube source: Config is required")
	}
	if opts.StatusWriter && opts.LeaseNamespace == "" {
		return nil, errors.New("kube source: LeaseNamespace is required for status write-back")
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 100 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.LeaseName == "" {
		opts.LeaseName = "controlplane-status"
	}
	if opts.LeaseDuration <= 0 {
		opts.LeaseDuration = 15 * time.Second
	}
	if opts.Identity == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("kube source: leader-election identity: %w", err)
		}
		opts.Identity = h
	}
	opts.Mesh = opts.Mesh.WithDefaults()
	kc, err := kubernetes.NewForConfig(opts.Config)
	if err != nil {
		return nil, fmt.Errorf("kube source: kubernetes client: %w", err)
	}
	ic, err := istioclient.NewForConfig(opts.Config)
	if err != nil {
		return nil, fmt.Errorf("kube source: istio client: %w", err)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("kube source metrics: %w", err)
	}
	return &Source{opts: opts, log: opts.Log.With("component", "kube-source"), metrics: m, kube: kc, istio: ic}, nil
}

// Ready reports whether every informer has synced and the first store was published.
func (s *Source) Ready() bool { return s.ready.Load() }

// Leader reports whether this replica currently holds the status-writer lease.
func (s *Source) Leader() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leader
}

// Run starts the informers, waits until every one has synced, publishes the first store and
// then a new store after every change (bursts coalesced, see Options.Debounce), until ctx is done. publish is called
// from Run's goroutine, never concurrently. With StatusWriter, Run also runs leader election
// and the status writer; both stop before Run returns.
func (s *Source) Run(ctx context.Context, publish func(*model.Store, []model.Problem)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	inf := newInformers(s.kube, s.istio, s.opts.SecretNamespaces, s.log)
	dirty := make(chan struct{}, 1)
	if err := inf.addHandlers(dirty, s.metrics); err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // runs before wg.Wait: stops the informers and the status writer
	inf.start(ctx, &wg)
	s.log.Info("waiting for informer caches to sync")
	if !cache.WaitForCacheSync(ctx.Done(), inf.synced...) {
		return nil // ctx done
	}
	var sw *statusWriter
	if s.opts.StatusWriter {
		sw = newStatusWriter(s, inf)
		wg.Add(2)
		go func() { defer wg.Done(); sw.run(ctx) }()
		go func() { defer wg.Done(); s.elect(ctx, sw) }()
	}
	b := newBuilder(s.opts.Mesh, inf, s.log)
	// The first store covers every event of the initial lists.
	select {
	case <-dirty:
	default:
	}
	s.emit(b, sw, publish)
	s.ready.Store(true)
	s.log.Info("kubernetes caches synced; watching")

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var first time.Time    // of the oldest event not yet handled; zero when none
	var lastEmit time.Time // of the last store after a change; zero before the first change
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-dirty:
			now := time.Now()
			if first.IsZero() && now.Sub(lastEmit) >= s.opts.Debounce {
				// The first event after a quiet spell (one kubectl apply) is published at once:
				// waiting for quiet would add the whole debounce to every single change. The
				// events that follow within the debounce are coalesced below.
				s.emit(b, sw, publish)
				lastEmit = time.Now()
				continue
			}
			if first.IsZero() {
				first = now
			}
			// Wait for a quiet period, but never more than ten periods in a steady stream.
			timer.Reset(max(min(s.opts.Debounce, first.Add(10*s.opts.Debounce).Sub(now)), 0))
		case <-timer.C:
			first = time.Time{}
			s.emit(b, sw, publish)
			lastEmit = time.Now()
		}
	}
}

// emit builds a store from the informer caches, hands the problems to the status writer and
// publishes. Problems are logged by the builder when an object changes, not on every publish.
func (s *Source) emit(b *builder, sw *statusWriter, publish func(*model.Store, []model.Problem)) {
	start := time.Now()
	store, problems, byObject := b.build()
	if sw != nil {
		sw.update(byObject)
	}
	s.metrics.record(store, problems, time.Since(start))
	s.log.Info("kubernetes config loaded", "objects", len(store.Objects()), "problems", len(problems))
	publish(store, problems)
}

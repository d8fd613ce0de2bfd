package jwks

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// Manager keeps one fetcher per distinct key source, shared by every policy and proxy that
// references it. Its methods are safe for concurrent use; Run owns every goroutine.
type Manager struct {
	opts    Options
	log     *slog.Logger
	fetcher *fetcher
	metrics *metrics
	sem     chan struct{} // bounds concurrent fetches
	wake    chan struct{} // cap 1: the source set changed, Run must reconcile
	changes chan []string // cap 1, latest value: see notify

	notifyMu sync.Mutex // serialises senders on changes

	mu      sync.Mutex
	entries map[string]*entry
	running bool
}

// entry is the state of one source; guarded by Manager.mu.
type entry struct {
	src       Source
	active    bool      // in the latest SetSources
	removedAt time.Time // when it left the set; evicted RemovedGrace later
	gen       uint64    // worker generation: results of a stopped worker are ignored
	cancel    context.CancelFunc

	uri         string // resolved JWKS URI
	json        string // last good canonical key set; "" when never fetched
	keyCount    int
	lastSuccess time.Time
	lastAttempt time.Time
	nextRefresh time.Time
	lastErr     string
	failures    int
}

// NewManager validates opts and builds the HTTP client and metrics; nothing runs until Run.
func NewManager(opts Options) (*Manager, error) {
	opts = opts.withDefaults()
	client, err := newClient(opts)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		opts: opts,
		log:  opts.Log.With("component", "jwks"),
		fetcher: &fetcher{client: client, allowed: opts.AllowedHosts, maxBody: opts.MaxBodyBytes,
			retries: opts.FetchRetries, retryInitial: opts.RetryInitial},
		sem:     make(chan struct{}, opts.MaxConcurrentFetches),
		wake:    make(chan struct{}, 1),
		changes: make(chan []string, 1),
		entries: map[string]*entry{},
	}
	if m.metrics, err = newMetrics(opts.Registerer, m.gauges); err != nil {
		return nil, err
	}
	return m, nil
}

// SetSources replaces the set of sources the policies reference. It never blocks on the
// network: new sources are fetched by Run right away and announced on Changes when their
// keys arrive; removed sources stop refreshing at once and keep their keys for
// Options.RemovedGrace. A source already in the set keeps its schedule (a failing one is not
// refetched on every call, which would let a busy policy source hammer a down IdP). Entries
// with an empty Key, or with neither URI nor Issuer, are ignored. Duplicate keys are merged,
// keeping the longest timeout.
func (m *Manager) SetSources(ctx context.Context, srcs []Source) {
	want := map[string]Source{}
	for _, s := range srcs {
		if s.Key == "" || s.URI == "" && s.Issuer == "" {
			continue
		}
		s.Timeout = orDefault(s.Timeout, defaultTimeout)
		if prev, ok := want[s.Key]; ok {
			s.Timeout = max(s.Timeout, prev.Timeout)
		}
		want[s.Key] = s
	}
	now := time.Now()
	m.mu.Lock()
	for key, e := range m.entries {
		if _, ok := want[key]; !ok && e.active {
			e.active, e.removedAt = false, now
		}
	}
	added := 0
	for key, s := range want {
		e, ok := m.entries[key]
		if !ok {
			e = &entry{}
			m.entries[key] = e
			added++
		}
		e.src, e.active, e.removedAt = s, true, time.Time{}
	}
	m.mu.Unlock()
	m.log.DebugContext(ctx, "jwks sources set", "sources", len(want), "added", added)
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Keys returns the last good key set of every source that ever had one, including sources
// waiting out their removal grace. A source that never loaded is absent: translation then
// inlines a key set that verifies nothing.
func (m *Manager) Keys() map[string]model.KeySet {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]model.KeySet, len(m.entries))
	for key, e := range m.entries {
		if e.json != "" {
			out[key] = model.KeySet{Source: key, JSON: e.json}
		}
	}
	return out
}

// Changes delivers the sorted keys of sources whose key set content changed (first load
// included; a refetch of equal keys is not a change). Undelivered notifications are merged,
// so the manager never blocks on a slow reader and a reader never misses a source.
func (m *Manager) Changes() <-chan []string { return m.changes }

// notify merges keys into the pending notification, if any, and leaves the union pending.
func (m *Manager) notify(keys ...string) {
	m.notifyMu.Lock()
	defer m.notifyMu.Unlock()
	select {
	case pending := <-m.changes:
		keys = append(keys, pending...)
	default:
	}
	slices.Sort(keys)
	m.changes <- slices.Compact(keys) // cannot block: senders are serialised and we drained
}

// Status describes every source, sorted by key, for the debug endpoint.
func (m *Manager) Status() []SourceStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]SourceStatus, 0, len(m.entries))
	for _, key := range slices.Sorted(maps.Keys(m.entries)) {
		e := m.entries[key]
		uri := e.uri
		if uri == "" {
			uri = e.src.URI
		}
		out = append(out, SourceStatus{
			Key: key, URI: uri, Issuer: e.src.Issuer, Active: e.active,
			LastSuccess: e.lastSuccess, LastAttempt: e.lastAttempt, NextRefresh: e.nextRefresh,
			LastError: e.lastErr, ConsecutiveFailures: e.failures, KeyCount: e.keyCount,
		})
	}
	return out
}

// gauges computes controlplane_jwks_sources and ..._last_success_timestamp_seconds over the
// sources in use.
func (m *Manager) gauges() (map[string]int, float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	states := map[string]int{}
	var oldest time.Time
	for _, e := range m.entries {
		if !e.active {
			continue
		}
		switch {
		case e.json == "":
			states[stateUnloaded]++
			continue
		case e.failures > 0:
			states[stateStale]++
		default:
			states[stateFresh]++
		}
		if oldest.IsZero() || e.lastSuccess.Before(oldest) {
			oldest = e.lastSuccess
		}
	}
	if oldest.IsZero() {
		return states, 0
	}
	return states, float64(oldest.UnixNano()) / 1e9
}

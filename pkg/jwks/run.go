package jwks

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Run starts a refresh worker per referenced source, stops the workers of removed sources,
// evicts removed sources after their grace, and returns nil once ctx is done and every worker
// has exited.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.running {
		m.mu.Unlock()
		return errors.New("jwks: Manager.Run is already running")
	}
	m.running = true
	m.mu.Unlock()
	m.log.InfoContext(ctx, "jwks manager started")

	var wg sync.WaitGroup
	evict := time.NewTimer(time.Hour)
	defer evict.Stop()
	for {
		next := m.reconcile(ctx, &wg)
		evict.Reset(next)
		select {
		case <-ctx.Done():
			m.stopWorkers()
			wg.Wait()
			m.log.Info("jwks manager stopped")
			return nil
		case <-m.wake:
		case <-evict.C:
		}
	}
}

// reconcile makes the workers match the active sources and evicts expired removed ones. It
// returns how long until the next eviction is due (an hour when none is).
func (m *Manager) reconcile(ctx context.Context, wg *sync.WaitGroup) time.Duration {
	now := time.Now()
	next := time.Hour
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, e := range m.entries {
		if e.active {
			if e.cancel == nil {
				m.startWorker(ctx, wg, key, e)
			}
			continue
		}
		if e.cancel != nil {
			e.cancel()
			e.cancel = nil
			e.gen++
		}
		left := e.removedAt.Add(m.opts.RemovedGrace).Sub(now)
		if left <= 0 {
			delete(m.entries, key)
			continue
		}
		next = min(next, left)
	}
	return next
}

// startWorker runs a refresh worker for e; m.mu is held.
func (m *Manager) startWorker(ctx context.Context, wg *sync.WaitGroup, key string, e *entry) {
	wctx, cancel := context.WithCancel(ctx)
	e.gen++
	e.cancel = cancel
	gen := e.gen
	wg.Go(func() { m.work(wctx, key, gen) })
}

func (m *Manager) stopWorkers() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.entries {
		if e.cancel != nil {
			e.cancel()
			e.cancel = nil
			e.gen++
		}
	}
	m.running = false
}

// work refreshes one source until its context ends: at once (a newly referenced source is
// fetched promptly), then per the delay each round's outcome sets. Each worker owns its
// failure back-off, reset by a success.
func (m *Manager) work(ctx context.Context, key string, gen uint64) {
	failures := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(m.opts.FailureBackoffInitial),
		backoff.WithMaxInterval(m.opts.FailureBackoffMax),
		backoff.WithMaxElapsedTime(0))
	delay := m.firstDelay(key)
	for {
		if !sleep(ctx, delay) {
			return
		}
		src, ok := m.source(key, gen)
		if !ok || !m.acquire(ctx) {
			return
		}
		res, err := m.fetcher.fetch(ctx, src)
		<-m.sem
		if ctx.Err() != nil {
			return // shutting down or removed: an aborted round is not a failure
		}
		delay = m.record(key, gen, res, err, failures)
	}
}

// firstDelay lets a re-referenced source whose keys are current (removed and added back
// within its grace) wait for its scheduled refresh instead of refetching at once.
func (m *Manager) firstDelay(key string) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[key]
	if e == nil || e.json == "" || e.failures > 0 {
		return 0
	}
	return max(time.Until(e.nextRefresh), 0)
}

// source returns the current settings of the source a worker of generation gen serves, and
// false when that worker has been superseded.
func (m *Manager) source(key string, gen uint64) (Source, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[key]
	if e == nil || e.gen != gen {
		return Source{}, false
	}
	return e.src, true
}

func (m *Manager) acquire(ctx context.Context) bool {
	select {
	case m.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// refreshDelay is the steady-state interval: Refresh, shortened by a Cache-Control max-age
// down to MinRefresh at most, minus up to 10% jitter so sources loaded together spread out.
func (m *Manager) refreshDelay(maxAge time.Duration) time.Duration {
	d := m.opts.Refresh
	if maxAge > 0 {
		d = min(max(maxAge, m.opts.MinRefresh), m.opts.Refresh)
	}
	if d >= 10 {
		d -= rand.N(d / 10)
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

package snapshot

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// Run rebuilds dirty groups and drops idle ones until ctx is cancelled. A change after a quiet
// spell is built at once; changes that follow within Options.Debounce of a rebuild wait until
// that window has passed and are built together, so a burst costs at most two rebuilds per
// group and an isolated edit waits for nothing (a trailing-only debounce added its whole
// window to every push).
func (s *Server) Run(ctx context.Context) error {
	sweep := time.NewTicker(min(s.opts.IdleTimeout/4, time.Minute))
	defer sweep.Stop()
	var last time.Time // end of the last rebuild
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sweep.C:
			s.sweep(ctx, time.Now())
		case <-s.kick:
			if wait := s.opts.Debounce - time.Since(last); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil
				case <-t.C:
				}
			}
			// Kicks that arrived during the window are covered by this pass.
			select {
			case <-s.kick:
			default:
			}
			if s.rebuild(ctx) {
				last = time.Now()
			}
		}
	}
}

// rebuild builds every dirty group first and only then serves them all. Pushing each group as
// soon as it is built made the later builds compete for the CPU with the fan-out of the earlier
// ones: with 100 groups and 10,000 proxies the last group was served a second after the first.
// Building them all first takes a few milliseconds per group, and every proxy waits about as
// long as the first did.
//
// It reports whether any group was dirty: a wake-up with nothing to rebuild (a change no group
// depends on) must not open the debounce window for the next real change.
func (s *Server) rebuild(ctx context.Context) bool {
	groups := s.takeDirty()
	if len(groups) == 0 {
		return false
	}
	start := time.Now()
	// Sorted by key, so two rebuilds never wait on each other in opposite orders.
	for _, g := range groups {
		g.buildMu.Lock()
		defer g.buildMu.Unlock()
	}
	ready := s.prepareAll(ctx, groups)
	if ctx.Err() != nil {
		return true
	}
	prepared := time.Since(start)
	s.publish(ctx, ready...)
	s.log.InfoContext(ctx, "groups rebuilt", "groups", len(groups), "changed", len(ready),
		"seconds", time.Since(start).Seconds(), "prepare_seconds", prepared.Seconds())
	return true
}

// prepareAll prepares groups on as many goroutines as there are CPUs: translation is pure and
// per group, and a root-namespace edit dirties every group at once. The result keeps groups'
// order and holds only those with something new to serve.
func (s *Server) prepareAll(ctx context.Context, groups []*group) []pending {
	results := make([]pending, len(groups)) // zero where there is nothing new to serve
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(len(groups), runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i], _ = s.prepare(ctx, groups[i])
			}
		}()
	}
	for i := range groups {
		// Translation has no ctx: stop between groups.
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	ready := results[:0]
	for _, p := range results {
		if p.g != nil {
			ready = append(ready, p)
		}
	}
	return ready
}

// sweep drops groups that have had no connected proxy for Options.IdleTimeout. The cache
// entry is cleared under s.mu, so a proxy of that group connecting at the same time either
// finds the group still there or creates and builds a fresh one after the clear.
func (s *Server) sweep(ctx context.Context, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var dropped []model.Proxy
	for key, g := range s.groups {
		if g.streams == 0 && now.Sub(g.idleSince) >= s.opts.IdleTimeout {
			delete(s.groups, key)
			delete(s.dirty, key)
			s.xds.clear(key)
			dropped = append(dropped, g.proxy)
			s.log.InfoContext(ctx, "idle group dropped", "group", key)
		}
	}
	s.metrics.groups.Set(float64(len(s.groups)))
	s.forgetUnusedIdentities(dropped)
}

// forgetUnusedIdentities tells the CA to stop keeping (and rotating) the certificates of
// identities whose last proven group was dropped. Called with s.mu held.
func (s *Server) forgetUnusedIdentities(dropped []model.Proxy) {
	if s.opts.Identity == nil {
		return
	}
	inUse := map[string]bool{}
	for _, g := range s.groups {
		if g.proxy.IdentityProven {
			inUse[g.proxy.Namespace+"/"+g.proxy.ServiceAccount] = true
		}
	}
	for _, p := range dropped {
		if id := p.Namespace + "/" + p.ServiceAccount; p.IdentityProven && !inUse[id] {
			inUse[id] = true // forget once
			s.opts.Identity.Forget(p.Namespace, p.ServiceAccount)
		}
	}
}

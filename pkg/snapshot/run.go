package snapshot

import (
	"github.com/plainenvoy/controlplane/pkg/model"

	"context"
	"time"
)

// Run rebuilds dirty groups and drops idle ones until ctx is cancelled. A change wakes it; it
// then waits Options.Debounce so that a burst of changes gives one rebuild per group.
func (s *Server) Run(ctx context.Context) error {
	sweep := time.NewTicker(min(s.opts.IdleTimeout/4, time.Minute))
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sweep.C:
			s.sweep(ctx, time.Now())
		case <-s.kick:
			t := time.NewTimer(s.opts.Debounce)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			// Kicks that arrived during the window are covered by this pass.
			select {
			case <-s.kick:
			default:
			}
			s.rebuild(ctx)
		}
	}
}

// rebuild builds every dirty group first and only then serves them all. Pushing each group as
// soon as it is built made the later builds compete for the CPU with the fan-out of the earlier
// ones: with 100 groups and 10,000 proxies the last group was served a second after the first.
// Building them all first takes a few milliseconds per group, and every proxy waits about as
// long as the first did.
func (s *Server) rebuild(ctx context.Context) {
	groups := s.takeDirty()
	if len(groups) == 0 {
		return
	}
	start := time.Now()
	// Sorted by key, so two rebuilds never wait on each other in opposite orders.
	for _, g := range groups {
		g.buildMu.Lock()
		defer g.buildMu.Unlock()
	}
	var ready []pending
	for _, g := range groups {
		// Translation has no ctx: stop between groups.
		if ctx.Err() != nil {
			return
		}
		if p, ok := s.prepare(ctx, g); ok {
			ready = append(ready, p)
		}
	}
	s.publish(ctx, ready...)
	s.log.DebugContext(ctx, "groups rebuilt", "groups", len(groups), "changed", len(ready),
		"seconds", time.Since(start).Seconds())
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

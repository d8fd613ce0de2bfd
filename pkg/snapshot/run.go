package snapshot

import (
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

func (s *Server) rebuild(ctx context.Context) {
	groups := s.takeDirty()
	if len(groups) == 0 {
		return
	}
	start := time.Now()
	for _, g := range groups {
		// Translation has no ctx: stop between groups.
		if ctx.Err() != nil {
			return
		}
		s.buildGroup(ctx, g)
	}
	s.log.DebugContext(ctx, "groups rebuilt", "groups", len(groups), "seconds", time.Since(start).Seconds())
}

// sweep drops groups that have had no connected proxy for Options.IdleTimeout. The cache
// entry is cleared under s.mu, so a proxy of that group connecting at the same time either
// finds the group still there or creates and builds a fresh one after the clear.
func (s *Server) sweep(ctx context.Context, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, g := range s.groups {
		if g.streams == 0 && now.Sub(g.idleSince) >= s.opts.IdleTimeout {
			delete(s.groups, key)
			delete(s.dirty, key)
			s.cache.ClearSnapshot(key)
			s.log.InfoContext(ctx, "idle group dropped", "group", key)
		}
	}
	s.metrics.groups.Set(float64(len(s.groups)))
}

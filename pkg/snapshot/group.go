package snapshot

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// group is the state of one proxy group. Fields after buildMu are guarded by Server.mu.
type group struct {
	key string
	// buildMu serialises builds of this group, so an older build never overwrites a newer one.
	buildMu sync.Mutex

	proxy     model.Proxy // the first proxy seen; translation reads only GroupKey's fields
	res       translate.Resources
	problems  []model.Problem
	served    built     // the snapshot in the cache; zero before the first build
	setAt     time.Time // when served was set, for push latency
	streams   int       // connected streams
	idleSince time.Time // when streams dropped to 0
}

// attach registers a stream of proxy p, creating p's group if needed, and builds a new
// group's snapshot at once so the stream's first request is answered without waiting for the
// rebuild loop.
func (s *Server) attach(ctx context.Context, p model.Proxy) *group {
	key := p.GroupKey()
	s.mu.Lock()
	g, ok := s.groups[key]
	if !ok {
		g = &group{key: key, proxy: p}
		s.groups[key] = g
		s.metrics.groups.Set(float64(len(s.groups)))
	}
	g.streams++
	canBuild := s.store != nil
	s.mu.Unlock()
	if !ok && canBuild {
		s.buildGroup(ctx, g)
	}
	return g
}

// detach records that a stream of g closed.
func (s *Server) detach(g *group, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g.streams--
	if g.streams == 0 {
		g.idleSince = now
	}
}

// buildGroup translates, checks and hashes g's configuration and, when its version differs
// from the one served, sets it in the cache. A configuration that fails its checks is a
// translation bug: it is logged and counted, and the last good snapshot keeps being served.
func (s *Server) buildGroup(ctx context.Context, g *group) {
	g.buildMu.Lock()
	defer g.buildMu.Unlock()
	store, keys := s.inputs()
	if store == nil {
		return
	}
	start := time.Now()
	res, problems := s.opts.Translate(translate.Inputs{Store: store, Proxy: g.proxy, Keys: keys, ExtAuthz: s.opts.ExtAuthz})
	b, err := build(res)
	if err == nil {
		err = check(res, b.snap)
	}
	s.metrics.buildSeconds.Observe(time.Since(start).Seconds())
	log := s.log.With("group", g.key)
	if err != nil {
		kind := "build"
		var ce *configError
		if errors.As(err, &ce) {
			kind = ce.kind
		}
		s.metrics.configErrors.WithLabelValues(kind).Inc()
		s.metrics.builds.WithLabelValues("failed").Inc()
		log.ErrorContext(ctx, "built configuration not served, keeping the last good snapshot", "err", err)
		if s.servedVersion(g) != "" {
			return
		}
		// Nothing served yet: an empty configuration fails closed (no listener, no traffic).
		res, problems = translate.Resources{}, nil
		if b, err = build(res); err != nil {
			return
		}
	}
	if b.version == s.servedVersion(g) {
		s.metrics.builds.WithLabelValues("unchanged").Inc()
		s.mu.Lock()
		g.res, g.problems = res, problems
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	if s.groups[g.key] != g {
		// Dropped as idle while building: setting it would leak a cache entry.
		s.mu.Unlock()
		return
	}
	g.res, g.problems, g.served, g.setAt = res, problems, b, time.Now()
	s.mu.Unlock()
	if err := s.cache.SetSnapshot(ctx, g.key, b.snap); err != nil {
		log.ErrorContext(ctx, "set snapshot", "err", err)
		return
	}
	s.metrics.builds.WithLabelValues("changed").Inc()
	log.InfoContext(ctx, "snapshot set", "version", b.version, "problems", len(problems),
		"listeners", len(res.Listeners), "clusters", len(res.Clusters))
}

func (s *Server) servedVersion(g *group) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return g.served.version
}

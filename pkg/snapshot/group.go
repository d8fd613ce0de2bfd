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

	proxy model.Proxy // the first proxy seen; translation reads only GroupKey's fields
	// keySources are the JWKS sources the served configuration inlines (translate.Resources):
	// a change of their keys rebuilds the group. The translated protos themselves are not kept:
	// the served bytes are all a group needs, and Config decodes them when asked.
	keySources []string
	problems   []model.Problem
	served     built     // the snapshot in the cache; zero before the first build
	setAt      time.Time // when served was set, for push latency
	streams    int       // connected streams
	idleSince  time.Time // when streams dropped to 0
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
// from the one served, publishes it.
func (s *Server) buildGroup(ctx context.Context, g *group) {
	g.buildMu.Lock()
	defer g.buildMu.Unlock()
	if p, ok := s.prepare(ctx, g); ok {
		s.publish(ctx, p)
	}
}

// pending is a group's new configuration, built but not yet served.
type pending struct {
	g        *group
	res      translate.Resources
	problems []model.Problem
	b        built
	keysGen  uint64 // of the keys it was built from
}

// prepare translates, checks and hashes g's configuration; false means there is nothing new to
// serve. A configuration that fails its checks is a translation bug: it is logged and counted,
// and the last good snapshot keeps being served. The caller holds g.buildMu.
func (s *Server) prepare(ctx context.Context, g *group) (pending, bool) {
	store, keys, keysGen := s.inputs()
	if store == nil {
		return pending{}, false
	}
	start := time.Now()
	res, problems := s.opts.Translate(translate.Inputs{Store: store, Proxy: g.proxy, Keys: keys, ExtAuthz: s.opts.ExtAuthz})
	var err error
	if res.Secrets, err = s.withWorkloadSecrets(g.proxy, res.Secrets); err != nil {
		s.log.ErrorContext(ctx, "workload certificate not issued; the proxy's mTLS chains fail closed", "group", g.key, "err", err)
	}
	b, err := build(res, s.shared)
	if err == nil {
		err = check(res, b.snap, b.shared)
	}
	b.snap, b.shared = nil, nil // checked: from here on only the bytes are kept
	s.metrics.buildSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		kind := "build"
		var ce *configError
		if errors.As(err, &ce) {
			kind = ce.kind
		}
		s.metrics.configErrors.WithLabelValues(kind).Inc()
		s.metrics.builds.WithLabelValues("failed").Inc()
		s.log.ErrorContext(ctx, "built configuration not served, keeping the last good snapshot", "group", g.key, "err", err)
		if s.servedVersion(g) != "" {
			return pending{}, false
		}
		// Nothing served yet: an empty configuration fails closed (no listener, no traffic).
		res, problems = translate.Resources{}, nil
		if b, err = build(res, s.shared); err != nil {
			return pending{}, false
		}
	}
	if b.version == s.servedVersion(g) {
		s.metrics.builds.WithLabelValues("unchanged").Inc()
		s.mu.Lock()
		g.keySources, g.problems = res.KeySources, problems
		s.rebuildIfKeysMoved(g, keysGen)
		s.mu.Unlock()
		return pending{}, false
	}
	return pending{g: g, res: res, problems: problems, b: b, keysGen: keysGen}, true
}

// publish serves prepared configurations to their groups' streams. The caller holds every
// group's buildMu. Server.mu is taken once for all groups: every response and ACK of every
// stream takes it too, and queueing for it once per group let a 100-group push trickle out
// over a second.
func (s *Server) publish(ctx context.Context, ps ...pending) {
	now := time.Now()
	live := ps[:0:0]
	s.mu.Lock()
	for _, p := range ps {
		g := p.g
		if s.groups[g.key] != g {
			continue // dropped as idle while building: setting it would leak a cache entry
		}
		g.keySources, g.problems, g.served, g.setAt = p.res.KeySources, p.problems, p.b, now
		s.rebuildIfKeysMoved(g, p.keysGen)
		live = append(live, p)
	}
	s.mu.Unlock()
	for _, p := range live {
		s.xds.set(p.g.key, p.b.prepared)
	}
	if len(live) > 0 {
		s.afterPush(ctx) // and first builds: proxies connecting in numbers are a push too
	}
	for _, p := range live {
		s.metrics.builds.WithLabelValues("changed").Inc()
		s.log.InfoContext(ctx, "snapshot set", "group", p.g.key, "version", p.b.version, "problems", len(p.problems),
			"listeners", len(p.res.Listeners), "clusters", len(p.res.Clusters))
	}
}

func (s *Server) servedVersion(g *group) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return g.served.version
}

package snapshot

import (
	"cmp"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// Server holds one snapshot per proxy group and serves them over ADS. SetStore and SetKeys
// feed it; Run rebuilds the affected groups; Serve speaks xDS. Its methods are safe for
// concurrent use.
type Server struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	gc      idleGC
	xds     *watcher
	shared  *internTable  // resources shared by every group's snapshot
	kick    chan struct{} // cap 1: some group is dirty
	ready   atomic.Bool

	mu      sync.Mutex
	store   *model.Store
	keys    map[string]model.KeySet
	keysGen uint64 // bumped by every SetKeys: a build that read older keys must run again
	groups  map[string]*group
	dirty   map[string]bool
	streams map[streamKey]*stream
}

// New builds a server and registers its metrics; nothing is served until Serve.
func New(opts Options) (*Server, error) {
	opts = opts.withDefaults()
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	log := opts.Log.With("component", "snapshot")
	return &Server{
		opts:    opts,
		log:     log,
		metrics: m,
		gc:      idleGC{due: heapPastHalfway},
		xds:     newWatcher(),
		shared:  newInternTable(),
		kick:    make(chan struct{}, 1),
		groups:  map[string]*group{},
		dirty:   map[string]bool{},
		streams: map[streamKey]*stream{},
	}, nil
}

// Ready reports whether a store has been set: before that no group can be built.
func (s *Server) Ready() bool { return s.ready.Load() }

// SetStore publishes a new store. Only the groups the change can affect are rebuilt (deps.go).
func (s *Server) SetStore(store *model.Store) {
	s.mu.Lock()
	c := diff(s.store, store)
	s.store = store
	n := 0
	for key, g := range s.groups {
		if c.affects(g.proxy.Namespace, store.Mesh.RootNamespace) {
			s.dirty[key] = true
			n++
		}
	}
	s.mu.Unlock()
	s.ready.Store(true)
	s.log.Debug("store set", "groups_affected", n)
	s.wake()
}

// SetKeys publishes the key sets of every JWKS source; changed lists the sources whose keys
// differ from before. Only groups whose configuration inlines one of those are rebuilt.
func (s *Server) SetKeys(keys map[string]model.KeySet, changed []string) {
	s.mu.Lock()
	s.keys = keys
	s.keysGen++
	for key, g := range s.groups {
		for _, src := range changed {
			if slices.Contains(g.keySources, src) {
				s.dirty[key] = true
				break
			}
		}
	}
	s.mu.Unlock()
	s.wake()
}

func (s *Server) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// takeDirty returns the groups to rebuild, sorted, and clears the set.
func (s *Server) takeDirty() []*group {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*group
	for key := range s.dirty {
		if g, ok := s.groups[key]; ok {
			out = append(out, g)
		}
	}
	clear(s.dirty)
	slices.SortFunc(out, func(a, b *group) int { return cmp.Compare(a.key, b.key) })
	return out
}

// inputs returns what a build reads, consistently, and the keys' generation.
func (s *Server) inputs() (*model.Store, map[string]model.KeySet, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store, s.keys, s.keysGen
}

// rebuildIfKeysMoved marks g dirty again when keys were set while it was being built from
// older ones: SetKeys only marks the groups whose last served configuration inlines a changed
// source, and a group's first build has served nothing yet. Called with s.mu held.
func (s *Server) rebuildIfKeysMoved(g *group, builtFrom uint64) {
	if s.keysGen != builtFrom {
		s.dirty[g.key] = true
		s.wake()
	}
}

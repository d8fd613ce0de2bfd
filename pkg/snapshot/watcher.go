package snapshot

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// watcher is the cache go-control-plane's ADS server asks for responses: one prepared
// snapshot per group, and the open watches of the group's streams. It replaces the library's
// snapshot cache, which marshals every resource again for every stream's response (the issue
// asks for once per change) and takes one cache-wide lock for every request of every stream
// and for the whole fan-out of a push. Here each group has its own lock, and a response
// shares the group's marshalled resources (prepared.go).
//
// The protocol follows the library's snapshot cache (pkg/cache/v3/simple.go and delta.go),
// with two differences: a SotW request whose version_info is the current version is treated
// as holding it (resume.go), and a request naming fewer resources than the snapshot has keeps
// its watch instead of being dropped, so a later snapshot that matches its names is sent.
type watcher struct {
	nextID atomic.Int64
	keys   nodeKeys
	wires  wireRegistry

	mu     sync.RWMutex // every request of every stream looks its group up: read-locked
	groups map[string]*watchGroup
}

// watchGroup is one group's snapshot and watches, guarded by mu.
type watchGroup struct {
	mu    sync.Mutex
	snap  prepared                         // nil until the first snapshot
	sotw  map[string]map[int64]*sotwWatch  // by type URL, then watch ID
	delta map[string]map[int64]*deltaWatch // by type URL, then watch ID
}

var _ cache.Cache = (*watcher)(nil)

func newWatcher() *watcher { return &watcher{groups: map[string]*watchGroup{}} }

// group returns the group for key, creating it.
func (w *watcher) group(key string) *watchGroup {
	w.mu.RLock()
	g, ok := w.groups[key]
	w.mu.RUnlock()
	if ok {
		return g
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	g, ok = w.groups[key]
	if !ok {
		g = &watchGroup{sotw: map[string]map[int64]*sotwWatch{}, delta: map[string]map[int64]*deltaWatch{}}
		w.groups[key] = g
	}
	return g
}

// set publishes a group's new snapshot and answers every watch it changes, type by type in
// typeURLs order, so each stream receives clusters before listeners (make before break).
func (w *watcher) set(key string, p prepared) {
	g := w.group(key)
	g.mu.Lock()
	defer g.mu.Unlock()
	w.wires.replace(g.snap, p)
	g.snap = p
	for _, typeURL := range g.typeOrder() {
		ts := p.get(typeURL)
		for id, sw := range g.sotw[typeURL] {
			if sw.req.GetVersionInfo() != ts.version && sw.respond(ts) {
				delete(g.sotw[typeURL], id)
			}
		}
		for id, dw := range g.delta[typeURL] {
			if dw.respond(ts) {
				delete(g.delta[typeURL], id)
			}
		}
	}
}

// typeOrder is typeURLs, then any other type a stream watches (those have no resources).
func (g *watchGroup) typeOrder() []string {
	out := typeURLs
	for t := range g.sotw {
		if _, ok := shortTypeNames[t]; !ok {
			out = append(out[:len(out):len(out)], t)
		}
	}
	for t := range g.delta {
		if _, ok := shortTypeNames[t]; !ok {
			out = append(out[:len(out):len(out)], t)
		}
	}
	return out
}

// clear forgets a group; its streams are gone (see Server.sweep).
func (w *watcher) clear(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if g, ok := w.groups[key]; ok {
		g.mu.Lock()
		w.wires.replace(g.snap, nil)
		g.mu.Unlock()
	}
	delete(w.groups, key)
}

// errNoFetch: only ADS streams are served, never REST polling.
var errNoFetch = errors.New("xDS over REST is not served: use ADS")

// Fetch refuses REST requests.
func (w *watcher) Fetch(context.Context, *cache.Request) (cache.Response, error) {
	return nil, errNoFetch
}

package snapshot

import (
	"slices"
	"strings"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// deltaWatch is an incremental request waiting for a resource to change.
type deltaWatch struct {
	req *cache.DeltaRequest
	sub cache.Subscription
	out chan cache.DeltaResponse
}

// CreateDeltaWatch answers a delta request at once when a subscribed resource differs from
// what the stream was sent (or the stream's first wildcard request, which Envoy needs answered
// even when empty), and otherwise holds it until one does.
func (w *watcher) CreateDeltaWatch(req *cache.DeltaRequest, sub cache.Subscription, out chan cache.DeltaResponse) (func(), error) {
	g := w.group(w.keys.key(req.GetNode()))
	typeURL := req.GetTypeUrl()
	g.mu.Lock()
	defer g.mu.Unlock()
	dw := &deltaWatch{req: req, sub: sub, out: out}
	if g.snap != nil && dw.respond(g.snap.get(typeURL)) {
		return func() {}, nil
	}
	id := w.nextID.Add(1)
	if g.delta[typeURL] == nil {
		g.delta[typeURL] = map[int64]*deltaWatch{}
	}
	g.delta[typeURL][id] = dw
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		delete(g.delta[typeURL], id)
	}, nil
}

// respond sends the stream the resources of ts that changed since it was last sent them, and
// the names it has that ts lacks, and reports whether it sent a response. The resources are
// ts's shared, already marshalled ones; the version map is the stream's own (the library's
// subscription edits it).
func (dw *deltaWatch) respond(ts *typeSnap) bool {
	returned := dw.sub.ReturnedResources()
	var (
		changed []*deltaRes
		removed []string
		next    map[string]string
	)
	if dw.sub.IsWildcard() {
		next = make(map[string]string, len(ts.names))
		for _, r := range ts.deltas {
			next[r.Name] = r.Version
			if v, ok := returned[r.Name]; !ok || v != r.Version {
				changed = append(changed, r)
			}
		}
		for name := range returned {
			if _, ok := ts.byName[name]; !ok {
				removed = append(removed, name)
			}
		}
	} else {
		next = make(map[string]string, len(dw.sub.SubscribedResources()))
		for name := range dw.sub.SubscribedResources() {
			v, sent := returned[name]
			if i, ok := ts.byName[name]; ok {
				r := ts.deltas[i]
				next[name] = r.Version
				if !sent || v != r.Version {
					changed = append(changed, r)
				}
			} else if sent {
				removed = append(removed, name)
			}
		}
		slices.SortFunc(changed, func(a, b *deltaRes) int { return strings.Compare(a.Name, b.Name) })
	}
	first := dw.sub.IsWildcard() && dw.req.GetResponseNonce() == ""
	if len(changed) == 0 && len(removed) == 0 && !first {
		return false
	}
	slices.Sort(removed)
	resp := &cache.DeltaPassthroughResponse{
		DeltaRequest:   dw.req,
		NextVersionMap: next,
		DeltaDiscoveryResponse: &discoveryv3.DeltaDiscoveryResponse{
			SystemVersionInfo: ts.version, TypeUrl: dw.req.GetTypeUrl(), Resources: changed, RemovedResources: removed,
		},
	}
	select {
	case dw.out <- resp:
		return true
	default:
		return false // see sotwWatch.respond
	}
}

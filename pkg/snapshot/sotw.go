package snapshot

import (
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// sotwWatch is a state-of-the-world request waiting for a version it does not have.
type sotwWatch struct {
	req *cache.Request
	out chan cache.Response
	// wildcard: the stream asked for every resource, by naming none (legacy) or by naming "*"
	// (the xDS protocol's explicit wildcard, which Envoy sends when it also names resources).
	wildcard bool
}

// CreateWatch answers a SotW request at once when the group's snapshot has something the
// stream lacks, and otherwise holds it until a snapshot does.
func (w *watcher) CreateWatch(req *cache.Request, sub cache.Subscription, out chan cache.Response) (func(), error) {
	g := w.group(w.keys.key(req.GetNode()))
	typeURL := req.GetTypeUrl()
	g.mu.Lock()
	defer g.mu.Unlock()
	sw := &sotwWatch{req: req, out: out, wildcard: sub.IsWildcard()}
	if g.snap != nil {
		ts := g.snap.get(typeURL)
		sub = resume(req, sub, ts)
		if (req.GetVersionInfo() != ts.version || lacks(sub, ts)) && sw.respond(ts) {
			return func() {}, nil
		}
	}
	id := w.nextID.Add(1)
	if g.sotw[typeURL] == nil {
		g.sotw[typeURL] = map[int64]*sotwWatch{}
	}
	g.sotw[typeURL][id] = sw
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		delete(g.sotw[typeURL], id)
	}, nil
}

// lacks reports whether the snapshot has a resource the stream asked for and was not sent.
// It is asked only when the stream's version equals the snapshot's. A wildcard stream's
// returned resources are then those of a full response of this very content (versions hash
// names and bytes) or of resume, so it lacks something exactly when it holds fewer: counting
// replaces a walk over every resource on every ACK.
func lacks(sub cache.Subscription, ts *typeSnap) bool {
	known := sub.ReturnedResources()
	if sub.IsWildcard() {
		return len(known) < len(ts.names)
	}
	for name := range sub.SubscribedResources() {
		_, sent := known[name]
		_, have := ts.byName[name]
		if have && !sent {
			return true
		}
	}
	return false
}

// respond sends ts to the stream, and reports whether it did. A request naming resources gets
// those, in ADS only once it names every resource of the type (as the library's ADS mode
// does: Envoy asks for the routes and endpoints the listeners and clusters it was sent
// reference, and a response before that would be partial); until then the watch waits.
//
// The response shares ts's marshalled resources: go-control-plane's server sets the nonce on
// the DiscoveryResponse, which is therefore new each time, but never touches the resources.
func (sw *sotwWatch) respond(ts *typeSnap) bool {
	if names := sw.req.GetResourceNames(); !sw.wildcard && len(names) > 0 && !ts.covers(names) {
		return false
	}
	// Always every resource, in ts's own slice: the server recognises it and sends the
	// snapshot's prepared wire form (wire.go).
	anys, returned := ts.anys, ts.returned()
	resp := &cache.PassthroughResponse{
		Request: sw.req,
		DiscoveryResponse: &discoveryv3.DiscoveryResponse{
			VersionInfo: ts.version, TypeUrl: sw.req.GetTypeUrl(), Resources: anys,
		},
		ReturnedResources: returned,
	}
	// The server's channel has room for one response per type and a watch answers once, so
	// it is never full; if it were, the watch stays open rather than block the group.
	select {
	case sw.out <- resp:
		return true
	default:
		return false
	}
}

package snapshot

import (
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// resumingCache makes a proxy that reconnects with the current version get no push.
//
// go-control-plane's SotW cache answers a new subscription even when its version_info equals
// the snapshot's, because the stream has not yet returned any resource to it. With content-hash
// versions that version_info proves the proxy holds exactly these resources (from this
// replica before a restart, or from another one), so the watch is created as if they had been
// returned, and it fires only on the next real change.
type resumingCache struct{ cache.SnapshotCache }

// resumed is a subscription whose returned resources are those the proxy proved it has.
type resumed struct {
	cache.Subscription
	returned map[string]string
}

func (r resumed) ReturnedResources() map[string]string { return r.returned }

func (c resumingCache) CreateWatch(req *cache.Request, sub cache.Subscription, out chan cache.Response) (func(), error) {
	if v := req.GetVersionInfo(); v != "" && len(sub.ReturnedResources()) == 0 {
		if snap, err := c.GetSnapshot(groupHash{}.ID(req.GetNode())); err == nil && snap.GetVersion(req.GetTypeUrl()) == v {
			returned := map[string]string{}
			for name := range snap.GetResources(req.GetTypeUrl()) {
				returned[name] = v
			}
			sub = resumed{Subscription: sub, returned: returned}
		}
	}
	return c.SnapshotCache.CreateWatch(req, sub, out)
}

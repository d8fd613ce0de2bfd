package snapshot

import (
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// resume makes a proxy that reconnects with the current version get no push.
//
// go-control-plane's SotW server hands the cache a new subscription with nothing returned,
// even when the request's version_info equals the snapshot's, so a cache following the
// protocol literally would answer it. With content-hash versions that version_info proves the
// proxy holds exactly these resources (from this replica before a restart, or from another
// one), so the watch is created as if they had been returned, and it fires only on the next
// real change.
func resume(req *cache.Request, sub cache.Subscription, ts *typeSnap) cache.Subscription {
	if v := req.GetVersionInfo(); v == "" || v != ts.version || len(sub.ReturnedResources()) != 0 {
		return sub
	}
	return resumed{Subscription: sub, returned: ts.returned()}
}

// resumed is a subscription whose returned resources are those the proxy proved it has.
type resumed struct {
	cache.Subscription
	returned map[string]string
}

func (r resumed) ReturnedResources() map[string]string { return r.returned }

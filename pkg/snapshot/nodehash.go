package snapshot

import (
	"runtime"
	"sync"
	"weak"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// groupHash keys the snapshot cache by proxy group, so every proxy of a group is served the
// group's one snapshot.
type groupHash struct{}

var _ cache.NodeHash = groupHash{}

// ID returns the group key. A node with missing or malformed metadata still gets the key of
// the best proxy ProxyFromNode could parse: it is served an empty-but-valid configuration
// rather than refused (the error is logged and counted when its stream starts).
func (groupHash) ID(node *corev3.Node) string {
	p, _ := proxyFromNode(node)
	return p.GroupKey()
}

func proxyFromNode(node *corev3.Node) (model.Proxy, error) {
	md := node.GetMetadata().AsMap()
	p, err := model.ProxyFromNode(node.GetId(), node.GetCluster(), md)
	applyProof(&p, md)
	return p, err
}

// nodeKeys remembers the group key of each node a stream presents. go-control-plane's servers
// attach the stream's first node to every later request (the same pointer), and parsing its
// metadata for each ACK was 8% of the server's CPU in a push. Entries are keyed by weak
// pointer and removed when the node is collected, that is once its stream is gone.
type nodeKeys struct {
	mu sync.Mutex
	m  map[weak.Pointer[corev3.Node]]string
}

func (k *nodeKeys) key(node *corev3.Node) string {
	if node == nil {
		return groupHash{}.ID(nil)
	}
	wp := weak.Make(node)
	k.mu.Lock()
	key, ok := k.m[wp]
	k.mu.Unlock()
	if ok {
		return key
	}
	key = groupHash{}.ID(node)
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[wp]; !ok {
		if k.m == nil {
			k.m = map[weak.Pointer[corev3.Node]]string{}
		}
		k.m[wp] = key
		runtime.AddCleanup(node, k.forget, wp)
	}
	return key
}

func (k *nodeKeys) forget(wp weak.Pointer[corev3.Node]) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, wp)
}

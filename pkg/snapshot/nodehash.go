package snapshot

import (
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
	return model.ProxyFromNode(node.GetId(), node.GetCluster(), node.GetMetadata().AsMap())
}

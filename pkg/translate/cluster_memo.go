package translate

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
)

// Store-scoped memos (model.Store.Derived) of what several proxy groups' translations of one
// store build alike. Shared results are read-only: nothing may modify them after they are
// built (useExternalWorkloadSDS works on copies).

// clusterMemo holds a store's DestinationRule-free outbound clusters by clusterIdentity.
type clusterMemo struct{ m sync.Map }

type clusterMemoKey struct{}

type builtCluster struct {
	c   *clusterv3.Cluster
	cla *endpointv3.ClusterLoadAssignment
}

// clusterIdentity names a cluster key by what builds it: the service (of this store's
// registry), the port, the cluster name and the subset's labels.
func clusterIdentity(k clusterKey) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%p|%p|%s|", k.svc, k.port, k.name())
	writeLabels(&b, k.labels)
	return b.String()
}

// writeLabels writes labels unambiguously (length-prefixed, sorted), for memo keys.
func writeLabels(b *strings.Builder, labels map[string]string) {
	for _, l := range slices.Sorted(maps.Keys(labels)) {
		fmt.Fprintf(b, "%d:%s=%d:%s,", len(l), l, len(labels[l]), labels[l])
	}
}

// claMemo holds a store's load assignments by everything they are made of (claKey), so proxy
// groups whose clusters resolve the same way share one, read-only: with hundreds of sidecar
// groups each holding every service's endpoints, building them was a sixth of every rebuild,
// and the serving layer marshals a shared one once. Nothing may modify a load assignment
// after it is built.
type claMemo struct{ m sync.Map }

type claMemoKey struct{}

func sharedLoadAssignment(in Inputs, name string, k clusterKey, sec clusterTLS) *endpointv3.ClusterLoadAssignment {
	memo := in.Store.Derived(claMemoKey{}, func() any { return &claMemo{} }).(*claMemo)
	key := claKey(name, k, sec)
	if v, ok := memo.m.Load(key); ok {
		return v.(*endpointv3.ClusterLoadAssignment)
	}
	v, _ := memo.m.LoadOrStore(key, loadAssignment(name, k, sec))
	return v.(*endpointv3.ClusterLoadAssignment)
}

// claKey is what loadAssignment reads: the service's endpoints (the service of this store's
// registry: its identity), the port, the subset's labels, the name, and each endpoint's
// tlsMode (the only per-proxy input).
func claKey(name string, k clusterKey, sec clusterTLS) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%p|%p|%d:%s|", k.svc, k.port, len(name), name)
	writeLabels(&b, k.labels)
	b.WriteByte('|')
	if sec.endpointMode != nil {
		for _, e := range k.svc.Endpoints {
			b.WriteString(sec.endpointMode(e))
			b.WriteByte(',')
		}
	}
	return b.String()
}

package translate

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// Store-scoped memos (model.Store.Derived) of what several proxy groups' translations of one
// store build alike. Shared results are read-only: nothing may modify them after they are
// built (useExternalWorkloadSDS works on copies).

// memoID is what an outbound cluster and its load assignment are built from, apart from
// their TLS: the service (of this store's registry: its identity), the port, the subset and
// the subset's labels (a subset name means other labels in another namespace's rule).
type memoID struct {
	svc    *service
	port   *networkingv1alpha3.ServicePort
	subset string
	labels string
}

func memoIDOf(k clusterKey) memoID {
	var b strings.Builder
	for _, l := range slices.Sorted(maps.Keys(k.labels)) {
		fmt.Fprintf(&b, "%d:%s=%d:%s,", len(l), l, len(k.labels[l]), k.labels[l])
	}
	return memoID{svc: k.svc, port: k.port, subset: k.subset, labels: b.String()}
}

// clusterMemo holds a store's outbound clusters that no DestinationRule sets TLS for
// (automatic mTLS or plaintext, decided by the store alone), and which clusters those are.
type clusterMemo struct {
	byID   sync.Map // memoID → builtCluster
	shared sync.Map // *clusterv3.Cluster → struct{}: the clusters handed out
}

type clusterMemoKey struct{}

type builtCluster struct {
	c   *clusterv3.Cluster
	cla *endpointv3.ClusterLoadAssignment
}

func clusterMemoOf(store *model.Store) *clusterMemo {
	return store.Derived(clusterMemoKey{}, func() any { return &clusterMemo{} }).(*clusterMemo)
}

// get returns the memoised cluster of id, building it once per store.
func (m *clusterMemo) get(id memoID, build func() builtCluster) builtCluster {
	if v, ok := m.byID.Load(id); ok {
		return v.(builtCluster)
	}
	v, loaded := m.byID.LoadOrStore(id, build())
	b := v.(builtCluster)
	if !loaded {
		m.shared.Store(b.c, struct{}{})
	}
	return b
}

// holds reports whether c is one of the memoised clusters: those carry no DestinationRule TLS,
// so no credential (kubernetes://) reference.
func (m *clusterMemo) holds(c *clusterv3.Cluster) bool {
	_, ok := m.shared.Load(c)
	return ok
}

// claMemo holds a store's plaintext and DestinationRule-TLS load assignments (those without
// per-endpoint tlsMode), so proxy groups share one, read-only, and the serving layer marshals
// it once. Automatic-mTLS clusters are memoised whole (clusterMemo), their load assignments
// with them.
type claMemo struct{ m sync.Map } // memoID → *endpointv3.ClusterLoadAssignment

type claMemoKey struct{}

func sharedLoadAssignment(in Inputs, name string, k clusterKey, sec clusterTLS) *endpointv3.ClusterLoadAssignment {
	if sec.endpointMode != nil {
		return loadAssignment(name, k, sec)
	}
	memo := in.Store.Derived(claMemoKey{}, func() any { return &claMemo{} }).(*claMemo)
	id := memoIDOf(k)
	if v, ok := memo.m.Load(id); ok {
		return v.(*endpointv3.ClusterLoadAssignment)
	}
	v, _ := memo.m.LoadOrStore(id, loadAssignment(name, k, sec))
	return v.(*endpointv3.ClusterLoadAssignment)
}

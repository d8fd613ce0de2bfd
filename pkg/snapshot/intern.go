package snapshot

import (
	"runtime"
	"sync"
	"sync/atomic"
	"weak"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// internTable shares marshalled resources between groups. Sidecars without a narrower scope
// all receive the mesh's clusters and endpoints, byte for byte the same; without sharing,
// every group kept its own copy (2.7 MiB per group for 200 services of 25 endpoints). A
// resource is looked up by type and the hash of its bytes, and the table holds it weakly:
// it lives as long as some group's snapshot uses it, and its entry is removed after that.
type internTable struct {
	mu sync.Mutex
	m  map[internKey]weak.Pointer[sharedRes]

	// byCLA and byCluster find the shared resource of a load assignment or cluster that
	// translation itself shared between groups (translate memoises them per store), so that
	// one is not even marshalled again. An entry lives as long as its message.
	byCLA     map[weak.Pointer[endpointv3.ClusterLoadAssignment]]*sharedRes
	byCluster map[weak.Pointer[clusterv3.Cluster]]*sharedRes
}

// sharedRes is one shared resource and what the pre-serve checks learnt of it. Both depend on
// its bytes alone, so the groups sharing it check it once: with 200 sidecar groups holding the
// same mesh, validating every group's copy was a fifth of each rebuild.
type sharedRes struct {
	res       deltaRes    // served as is; never modified
	validated atomic.Bool // ValidateAll passed
	refsOnce  sync.Once
	refs      []string // the ADS secrets it references (adsSecretRefs)
}

// secretRefs returns adsSecretRefs of the resource m (whose bytes these are), computed once.
func (r *sharedRes) secretRefs(m protoreflect.Message) []string {
	r.refsOnce.Do(func() { r.refs = adsSecretRefs(m) })
	return r.refs
}

type internKey struct {
	typeURL string
	sum     [32]byte // SHA-256 of the marshalled resource
}

func newInternTable() *internTable {
	return &internTable{m: map[internKey]weak.Pointer[sharedRes]{},
		byCLA:     map[weak.Pointer[endpointv3.ClusterLoadAssignment]]*sharedRes{},
		byCluster: map[weak.Pointer[clusterv3.Cluster]]*sharedRes{}}
}

// resource returns the shared resource with these bytes, making it from data if no snapshot
// holds one. Its deltaRes and Any are read-only: concurrent streams serve them. Snapshots hold
// &r.res, which keeps r alive.
func (t *internTable) resource(typeURL, name, version string, sum [32]byte, data []byte) *sharedRes {
	k := internKey{typeURL: typeURL, sum: sum}
	t.mu.Lock()
	defer t.mu.Unlock()
	if wp, ok := t.m[k]; ok {
		if r := wp.Value(); r != nil {
			return r
		}
	}
	r := &sharedRes{}
	r.res.Name, r.res.Version, r.res.Resource = name, version, &anypb.Any{TypeUrl: typeURL, Value: data}
	t.m[k] = weak.Make(r)
	runtime.AddCleanup(r, t.forget, k)
	return r
}

// forget drops k's entry once its resource has been collected, unless a newer resource with
// the same bytes has taken the entry over in the meantime.
func (t *internTable) forget(k internKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if wp, ok := t.m[k]; ok && wp.Value() == nil {
		delete(t.m, k)
	}
}

// known returns the shared resource already made from this very message, if translation
// shares such messages (load assignments, clusters), or nil.
func (t *internTable) known(m types.Resource) *sharedRes {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch v := m.(type) {
	case *endpointv3.ClusterLoadAssignment:
		return t.byCLA[weak.Make(v)]
	case *clusterv3.Cluster:
		return t.byCluster[weak.Make(v)]
	}
	return nil
}

// remember records that m was made into r, for known.
func (t *internTable) remember(m types.Resource, r *sharedRes) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch v := m.(type) {
	case *endpointv3.ClusterLoadAssignment:
		rememberIn(t, t.byCLA, v, r)
	case *clusterv3.Cluster:
		rememberIn(t, t.byCluster, v, r)
	}
}

// rememberIn adds v → r to byPtr (t.mu held) and removes it once v is collected.
func rememberIn[T any](t *internTable, byPtr map[weak.Pointer[T]]*sharedRes, v *T, r *sharedRes) {
	wp := weak.Make(v)
	if _, ok := byPtr[wp]; ok {
		return
	}
	byPtr[wp] = r
	runtime.AddCleanup(v, func(wp weak.Pointer[T]) {
		t.mu.Lock()
		defer t.mu.Unlock()
		delete(byPtr, wp)
	}, wp)
}

// len is the number of entries, for tests.
func (t *internTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

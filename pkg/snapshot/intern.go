package snapshot

import (
	"runtime"
	"sync"
	"weak"

	"google.golang.org/protobuf/types/known/anypb"
)

// internTable shares marshalled resources between groups. Sidecars without a narrower scope
// all receive the mesh's clusters and endpoints, byte for byte the same; without sharing,
// every group kept its own copy (2.7 MiB per group for 200 services of 25 endpoints). A
// resource is looked up by type and the hash of its bytes, and the table holds it weakly:
// it lives as long as some group's snapshot uses it, and its entry is removed after that.
type internTable struct {
	mu sync.Mutex
	m  map[internKey]weak.Pointer[deltaRes]
}

type internKey struct {
	typeURL string
	sum     [32]byte // SHA-256 of the marshalled resource
}

func newInternTable() *internTable {
	return &internTable{m: map[internKey]weak.Pointer[deltaRes]{}}
}

// resource returns the shared resource with these bytes, making it from data if no snapshot
// holds one. The result and its Any are read-only: concurrent streams serve them.
func (t *internTable) resource(typeURL, name, version string, sum [32]byte, data []byte) *deltaRes {
	k := internKey{typeURL: typeURL, sum: sum}
	t.mu.Lock()
	defer t.mu.Unlock()
	if wp, ok := t.m[k]; ok {
		if r := wp.Value(); r != nil {
			return r
		}
	}
	r := &deltaRes{Name: name, Version: version, Resource: &anypb.Any{TypeUrl: typeURL, Value: data}}
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

// len is the number of entries, for tests.
func (t *internTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

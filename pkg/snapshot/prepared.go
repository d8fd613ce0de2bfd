package snapshot

import (
	"errors"
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/plainenvoy/controlplane/pkg/translate"
)

// prepared is one group's resources, marshalled once when the group's snapshot is built and
// shared, read-only, by the response to every stream of the group. go-control-plane's snapshot
// cache marshals each resource again for every stream's response; with prepared resources a
// push to a thousand proxies costs one marshal and a thousand small response headers.
type prepared map[string]*typeSnap // by type URL

// typeSnap is the resources of one type. Every slice and map here is shared by concurrent
// streams and must never be modified after build.
type typeSnap struct {
	version string         // the type's content hash: SotW version_info
	names   []string       // sorted
	anys    []*anypb.Any   // SotW resources, in names order
	deltas  []*deltaRes    // delta resources, in names order
	byName  map[string]int // name → index in names
	typeURL string
	wire    mem.BufferSlice // the full SotW response but its nonce (wire.go)
}

// deltaRes is a delta resource and its version (the hash of its bytes).
type deltaRes = discoveryv3.Resource

// empty is what a type the group has no resources of looks like.
var empty = &typeSnap{byName: map[string]int{}}

// get returns the resources of typeURL; a nil prepared (no snapshot yet) has none.
func (p prepared) get(typeURL string) *typeSnap {
	if ts, ok := p[typeURL]; ok {
		return ts
	}
	return empty
}

// add appends one marshalled resource; build adds them in name order.
func (ts *typeSnap) add(typeURL, name, version string, data []byte) {
	ts.addShared(&deltaRes{Name: name, Version: version, Resource: &anypb.Any{TypeUrl: typeURL, Value: data}})
}

// addShared appends a resource, possibly shared with other groups (the intern table).
func (ts *typeSnap) addShared(r *deltaRes) {
	ts.byName[r.Name] = len(ts.names)
	ts.names = append(ts.names, r.Name)
	ts.anys = append(ts.anys, r.Resource)
	ts.deltas = append(ts.deltas, r)
}

// returned maps every resource to the type version: what a stream has after a full SotW
// response. It is a fresh map: the library's subscription edits the map it is given.
func (ts *typeSnap) returned() map[string]string {
	out := make(map[string]string, len(ts.names))
	for _, n := range ts.names {
		out[n] = ts.version
	}
	return out
}

// covers reports whether names include every resource of ts. In ADS a request naming
// resources is answered only then (see sotwWatch.respond).
func (ts *typeSnap) covers(names []string) bool {
	seen := make(map[int]struct{}, len(ts.names))
	for _, n := range names {
		if i, ok := ts.byName[n]; ok {
			seen[i] = struct{}{}
		}
	}
	return len(seen) == len(ts.names)
}

// resources decodes the served bytes back into protos, for `controlplane config`: groups keep
// only the bytes.
func (p prepared) resources() (translate.Resources, error) {
	var r translate.Resources
	var errs []error
	r.Clusters = decodeAll[*clusterv3.Cluster](p.get(resourcev3.ClusterType), &errs)
	r.Endpoints = decodeAll[*endpointv3.ClusterLoadAssignment](p.get(resourcev3.EndpointType), &errs)
	r.Listeners = decodeAll[*listenerv3.Listener](p.get(resourcev3.ListenerType), &errs)
	r.Routes = decodeAll[*routev3.RouteConfiguration](p.get(resourcev3.RouteType), &errs)
	r.Secrets = decodeAll[*tlsv3.Secret](p.get(resourcev3.SecretType), &errs)
	return r, errors.Join(errs...)
}

func decodeAll[T proto.Message](ts *typeSnap, errs *[]error) []T {
	out := make([]T, 0, len(ts.anys))
	for i, a := range ts.anys {
		m, err := a.UnmarshalNew()
		if err != nil {
			*errs = append(*errs, fmt.Errorf("decode %s: %w", ts.names[i], err))
			continue
		}
		t, ok := m.(T)
		if !ok {
			*errs = append(*errs, fmt.Errorf("decode %s: unexpected type %s", ts.names[i], a.GetTypeUrl()))
			continue
		}
		out = append(out, t)
	}
	return out
}

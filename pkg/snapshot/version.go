package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/plainenvoy/controlplane/pkg/translate"
)

// typeURLs are the resource types a snapshot holds, in the order Envoy applies them.
var typeURLs = []string{
	resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType,
	resourcev3.RouteType, resourcev3.SecretType,
}

// built is one group's configuration ready to serve: its resources marshalled once, with a
// content-hash version per type, and the overall version (a hash of the per-type versions).
// snap holds the same resources unmarshalled for the consistency checks; prepare drops it
// once they have passed, so a served group keeps only the bytes.
type built struct {
	snap *cache.Snapshot
	// shared maps the resources of snap that came from the intern table to their entries, so
	// check can skip what another group already checked. Dropped with snap.
	shared   map[types.Resource]*sharedRes
	prepared prepared // per type, with the type's version
	version  string
}

// byType lists r's resources per type URL, each list already sorted by name by translate.
func byType(r translate.Resources) map[string][]types.Resource {
	return map[string][]types.Resource{
		resourcev3.ClusterType:  asResources(r.Clusters),
		resourcev3.EndpointType: asResources(r.Endpoints),
		resourcev3.ListenerType: asResources(r.Listeners),
		resourcev3.RouteType:    asResources(r.Routes),
		resourcev3.SecretType:   asResources(r.Secrets),
	}
}

func asResources[T types.Resource](xs []T) []types.Resource {
	out := make([]types.Resource, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// build marshals every resource once, deterministically, and keeps the bytes: they are hashed
// into the versions and served as they are to every stream of the group (prepared). A
// resource's version is the hash of its bytes; a type's version hashes its resources' names
// and versions. Equal content gives equal versions in every replica and after restarts (of
// one build: deterministic marshalling is stable within a protobuf version), so an Envoy that
// reconnects with what it has is sent nothing.
//
// With a table, resources whose bytes another group already holds are shared with it.
func build(r translate.Resources, shared *internTable) (built, error) {
	b := built{snap: &cache.Snapshot{}, prepared: prepared{}}
	if shared != nil {
		b.shared = map[types.Resource]*sharedRes{}
	}
	all := sha256.New()
	marshal := proto.MarshalOptions{Deterministic: true}
	lists := byType(r)
	for _, typeURL := range typeURLs {
		items := lists[typeURL]
		h := sha256.New()
		ts := &typeSnap{byName: make(map[string]int, len(items))}
		for _, res := range items {
			if sr := shared.known(res); sr != nil {
				// The very message another group was built from: its bytes and version are known.
				fmt.Fprintf(h, "%d:%s;%s;", len(sr.res.Name), sr.res.Name, sr.res.Version)
				b.shared[res] = sr
				ts.addShared(&sr.res)
				continue
			}
			data, err := marshal.Marshal(res)
			if err != nil {
				return built{}, fmt.Errorf("marshal %s %s: %w", typeURL, cache.GetResourceName(res), err)
			}
			name := cache.GetResourceName(res)
			sum := sha256.Sum256(data)
			rv := hex.EncodeToString(sum[:8])
			// Length prefixes keep the framing unambiguous.
			fmt.Fprintf(h, "%d:%s;%s;", len(name), name, rv)
			if shared != nil {
				sr := shared.resource(typeURL, name, rv, sum, data)
				shared.remember(res, sr)
				b.shared[res] = sr
				ts.addShared(&sr.res)
			} else {
				ts.add(typeURL, name, rv, data)
			}
		}
		ts.version = hex.EncodeToString(h.Sum(nil))[:16]
		ts.layWire(typeURL)
		b.prepared[typeURL] = ts
		fmt.Fprintf(all, "%s=%s;", typeURL, ts.version)
		b.snap.Resources[cache.GetResponseType(typeURL)] = cache.NewResources(ts.version, items)
	}
	b.version = hex.EncodeToString(all.Sum(nil))[:16]
	return b, nil
}

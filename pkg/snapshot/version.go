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

// built is one group's configuration ready to serve: the cache snapshot, with a content-hash
// version per type, and the overall version (a hash of the per-type versions).
type built struct {
	snap     *cache.Snapshot
	version  string
	versions map[string]string // type URL → version
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

// build marshals every resource once, deterministically, and hashes the bytes into the
// per-type versions. Equal content gives equal versions in every replica and after restarts
// (of one build: deterministic marshalling is stable within a protobuf version), so an Envoy
// that reconnects with what it has is sent nothing.
func build(r translate.Resources) (built, error) {
	b := built{snap: &cache.Snapshot{}, versions: map[string]string{}}
	all := sha256.New()
	marshal := proto.MarshalOptions{Deterministic: true}
	lists := byType(r)
	for _, typeURL := range typeURLs {
		items := lists[typeURL]
		h := sha256.New()
		for _, res := range items {
			data, err := marshal.Marshal(res)
			if err != nil {
				return built{}, fmt.Errorf("marshal %s %s: %w", typeURL, cache.GetResourceName(res), err)
			}
			// Length prefixes keep the framing unambiguous.
			fmt.Fprintf(h, "%d:%s;%d:", len(cache.GetResourceName(res)), cache.GetResourceName(res), len(data))
			h.Write(data)
		}
		v := hex.EncodeToString(h.Sum(nil))[:16]
		b.versions[typeURL] = v
		fmt.Fprintf(all, "%s=%s;", typeURL, v)
		b.snap.Resources[cache.GetResponseType(typeURL)] = cache.NewResources(v, items)
	}
	b.version = hex.EncodeToString(all.Sum(nil))[:16]
	return b, nil
}

package snapshot

import (
	"bytes"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/plainenvoy/controlplane/pkg/translate"
)

// marshalWire is what wireCodec puts on the wire for w.
func marshalWire(t *testing.T, w *wireResponse) []byte {
	t.Helper()
	bs, err := newWireCodec().Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return bs.Materialize()
}

// TestWireIsProtoMarshal: the prepared form of every type, with and without a nonce, is
// byte for byte what proto's deterministic marshal gives for the same DiscoveryResponse, and
// it decodes back to it. A resource whose bytes are empty (a message with no field set) and a
// type with no resources are included: both change the framing.
func TestWireIsProtoMarshal(t *testing.T) {
	r := benchResources(3, 0)
	r.Endpoints = []*endpointv3.ClusterLoadAssignment{{ClusterName: "a"}}
	b := mustBuild(t, r)
	// An Any with no value: proto omits the field.
	ts := &typeSnap{byName: map[string]int{}, version: "v"}
	ts.addShared(&deltaRes{Name: "", Resource: &anypb.Any{TypeUrl: resourcev3.ClusterType}})
	ts.layWire(resourcev3.ClusterType)
	cases := map[string]*typeSnap{"odd": ts}
	for _, typeURL := range typeURLs {
		cases[typeURL] = b.prepared.get(typeURL)
	}
	for name, ts := range cases {
		for _, nonce := range []string{"", "17"} {
			want, err := proto.MarshalOptions{Deterministic: true}.Marshal(&discoveryv3.DiscoveryResponse{
				VersionInfo: ts.version, Resources: ts.anys, TypeUrl: ts.typeURL, Nonce: nonce})
			if err != nil {
				t.Fatal(err)
			}
			got := marshalWire(t, &wireResponse{body: ts.wire, nonce: nonce})
			if !bytes.Equal(got, want) {
				t.Errorf("%s nonce %q: wire form differs from proto.Marshal:\n got %x\nwant %x", name, nonce, got, want)
			}
			var back discoveryv3.DiscoveryResponse
			if err := proto.Unmarshal(got, &back); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if back.Nonce != nonce || back.VersionInfo != ts.version || len(back.Resources) != len(ts.anys) {
				t.Errorf("%s: decoded %v", name, &back)
			}
		}
	}
}

// TestWireRegistry: a response a watch made from the group's current snapshot is sent in its
// prepared form; once the snapshot is replaced or the group cleared, or when the response was
// changed after it was made, it is marshalled as usual (nil here).
func TestWireRegistry(t *testing.T) {
	w := newWatcher()
	node := testNode("a", "foo")
	key := groupHash{}.ID(node)
	one := mustBuild(t, translate.Resources{Clusters: []*clusterv3.Cluster{{Name: "c1"}, {Name: "c2"}}})
	two := mustBuild(t, translate.Resources{Clusters: []*clusterv3.Cluster{{Name: "c1"}}})
	w.set(key, one.prepared)
	first := (<-sotwStream(t, w, node, resourcev3.ClusterType, "")).(*cache.PassthroughResponse).DiscoveryResponse
	first.Nonce = "1" // as the library's server does before sending
	got := w.wires.wire(first)
	if got == nil {
		t.Fatal("a response of the current snapshot was not recognised")
	}
	want, _ := proto.MarshalOptions{Deterministic: true}.Marshal(first)
	if !bytes.Equal(marshalWire(t, got), want) {
		t.Fatal("the prepared form is not the response's encoding")
	}

	edited := proto.Clone(first).(*discoveryv3.DiscoveryResponse)
	edited.Resources = first.Resources[:1]
	if w.wires.wire(edited) != nil {
		t.Error("a response with other resources was sent in the snapshot's form")
	}
	canary := &discoveryv3.DiscoveryResponse{VersionInfo: first.VersionInfo, Resources: first.Resources,
		TypeUrl: first.TypeUrl, Nonce: first.Nonce, Canary: true}
	if w.wires.wire(canary) != nil {
		t.Error("a response with a field the prepared form lacks was sent in that form")
	}

	w.set(key, two.prepared)
	if w.wires.wire(first) != nil {
		t.Error("a response of a replaced snapshot was recognised")
	}
	second := (<-sotwStream(t, w, node, resourcev3.ClusterType, "")).(*cache.PassthroughResponse).DiscoveryResponse
	if w.wires.wire(second) == nil {
		t.Fatal("a response of the new snapshot was not recognised")
	}
	w.clear(key)
	if w.wires.wire(second) != nil || len(w.wires.snaps) != 0 {
		t.Error("a cleared group's snapshot is still registered")
	}
}

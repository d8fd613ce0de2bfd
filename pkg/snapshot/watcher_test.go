package snapshot

import (
	"runtime"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/plainenvoy/controlplane/pkg/translate"
)

func testNode(id, ns string) *corev3.Node {
	md, _ := structpb.NewStruct(map[string]any{"role": "gateway", "namespace": ns})
	return &corev3.Node{Id: id, Metadata: md}
}

func mustBuild(t *testing.T, r translate.Resources) built {
	t.Helper()
	b, err := build(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sotwStream opens a wildcard SotW watch as go-control-plane's server would.
func sotwStream(t *testing.T, w *watcher, node *corev3.Node, typeURL, version string) chan cache.Response {
	t.Helper()
	out := make(chan cache.Response, 1)
	sub := streamv3.NewSotwSubscription(nil, true)
	if _, err := w.CreateWatch(&cache.Request{Node: node, TypeUrl: typeURL, VersionInfo: version}, &sub, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// deltaStream opens a wildcard delta watch; with initial versions it is a later request of the
// stream (the first is always answered, even when empty).
func deltaStream(t *testing.T, w *watcher, node *corev3.Node, typeURL string, initial map[string]string) chan cache.DeltaResponse {
	t.Helper()
	out := make(chan cache.DeltaResponse, 1)
	sub := streamv3.NewDeltaSubscription(nil, nil, initial, true)
	req := &cache.DeltaRequest{Node: node, TypeUrl: typeURL}
	if initial != nil {
		req.ResponseNonce = "1"
	}
	if _, err := w.CreateDeltaWatch(req, &sub, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPushMarshalsOncePerGroup: every stream of a group, SotW and delta, is sent the very
// bytes build marshalled, not a marshalling of its own.
func TestPushMarshalsOncePerGroup(t *testing.T) {
	w := newWatcher()
	key := groupHash{}.ID(testNode("a", "foo"))
	a := sotwStream(t, w, testNode("a", "foo"), resourcev3.ListenerType, "")
	b := sotwStream(t, w, testNode("b", "foo"), resourcev3.ListenerType, "")
	d := deltaStream(t, w, testNode("c", "foo"), resourcev3.ListenerType, nil)
	other := sotwStream(t, w, testNode("d", "bar"), resourcev3.ListenerType, "")
	if len(a)+len(b)+len(d) != 0 {
		t.Fatal("a group without a snapshot answered")
	}

	l := &listenerv3.Listener{Name: "l", StatPrefix: "one"}
	bt := mustBuild(t, translate.Resources{Listeners: []*listenerv3.Listener{l}})
	w.set(key, bt.prepared)
	ra, rb, rd := sotwResources(t, <-a), sotwResources(t, <-b), deltaResources(t, <-d)
	if len(ra) != 1 || len(rb) != 1 || len(rd) != 1 {
		t.Fatalf("got %d, %d and %d listeners, want 1 each", len(ra), len(rb), len(rd))
	}
	want, _ := proto.MarshalOptions{Deterministic: true}.Marshal(l)
	if !proto.Equal(ra[0], rb[0]) || string(ra[0].GetValue()) != string(want) {
		t.Fatal("streams were sent different bytes than build marshalled")
	}
	if ra[0] != rb[0] || rd[0].GetResource() != ra[0] || &ra[0].Value[0] != &bt.prepared.get(resourcev3.ListenerType).anys[0].Value[0] {
		t.Fatal("a stream's response holds its own copy of the resource: it was marshalled per stream")
	}
	if len(other) != 0 {
		t.Fatal("another group's stream was answered")
	}
}

func sotwResources(t *testing.T, r cache.Response) []*anypb.Any {
	t.Helper()
	dr, err := r.GetDiscoveryResponse()
	if err != nil {
		t.Fatal(err)
	}
	return dr.GetResources()
}

func deltaResources(t *testing.T, r cache.DeltaResponse) []*deltaRes {
	t.Helper()
	dr, err := r.GetDeltaDiscoveryResponse()
	if err != nil {
		t.Fatal(err)
	}
	return dr.GetResources()
}

// TestWatchesFireOnChangeOnly: a stream holding the current version is not answered again; a
// delta stream is sent only what changed, and told what was removed.
func TestWatchesFireOnChangeOnly(t *testing.T) {
	w := newWatcher()
	node := testNode("a", "foo")
	key := groupHash{}.ID(node)
	c1 := &clusterv3.Cluster{Name: "c1"}
	one := mustBuild(t, translate.Resources{Clusters: []*clusterv3.Cluster{c1, {Name: "c2"}}})
	w.set(key, one.prepared)
	v := one.prepared.get(resourcev3.ClusterType).version

	if got := sotwStream(t, w, node, resourcev3.ClusterType, v); len(got) != 0 {
		t.Fatal("a stream resuming with the current version was answered")
	}
	d := deltaStream(t, w, node, resourcev3.ClusterType, nil)
	if got := deltaResources(t, <-d); len(got) != 2 {
		t.Fatalf("first delta response has %d clusters, want 2", len(got))
	}
	initial := map[string]string{}
	for _, r := range one.prepared.get(resourcev3.ClusterType).deltas {
		initial[r.Name] = r.Version
	}
	d = deltaStream(t, w, node, resourcev3.ClusterType, initial)
	if len(d) != 0 {
		t.Fatal("a delta stream that has every resource was answered")
	}

	two := mustBuild(t, translate.Resources{Clusters: []*clusterv3.Cluster{c1, {Name: "c3"}}})
	w.set(key, two.prepared)
	resp, err := (<-d).GetDeltaDiscoveryResponse()
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetResources(); len(got) != 1 || got[0].GetName() != "c3" {
		t.Fatalf("delta update sent %v, want only c3", got)
	}
	if got := resp.GetRemovedResources(); len(got) != 1 || got[0] != "c2" {
		t.Fatalf("delta update removed %v, want c2", got)
	}
}

// TestNodeKeysForgetCollectedNodes: a node's key is remembered while a stream holds the node,
// and dropped once the node is garbage: streams come and go without the map growing.
func TestNodeKeysForgetCollectedNodes(t *testing.T) {
	var k nodeKeys
	func() { // the nodes are unreachable once this returns
		node := testNode("a", "foo")
		if got, want := k.key(node), (groupHash{}).ID(node); got != want {
			t.Fatalf("key = %s, want %s", got, want)
		}
		if got := k.key(&corev3.Node{Id: "b", Metadata: node.GetMetadata()}); got != k.key(node) {
			t.Fatal("two nodes of one group got different keys")
		}
	}()
	for range 100 {
		runtime.GC()
		k.mu.Lock()
		n := len(k.m)
		k.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("keys of collected nodes are kept")
}

// TestExplicitWildcardIsAnswered: a SotW request naming "*" (the xDS protocol's explicit
// wildcard; Envoy sends it when it names other resources too) gets every resource, at once
// and on later changes. It was held as if it named a resource called "*".
func TestExplicitWildcardIsAnswered(t *testing.T) {
	w := newWatcher()
	node := testNode("a", "foo")
	key := groupHash{}.ID(node)
	w.set(key, mustBuild(t, translate.Resources{Clusters: []*clusterv3.Cluster{{Name: "c1"}, {Name: "c2"}}}).prepared)
	for _, names := range [][]string{{"*"}, {"*", "c1"}, {"c1", "*", "not-there"}} {
		open := func(version string) chan cache.Response {
			out := make(chan cache.Response, 1)
			sub := streamv3.NewSotwSubscription(names, true)
			req := &cache.Request{Node: node, TypeUrl: resourcev3.ClusterType, ResourceNames: names, VersionInfo: version}
			if _, err := w.CreateWatch(req, &sub, out); err != nil {
				t.Fatal(err)
			}
			return out
		}
		select {
		case r := <-open(""):
			if got := sotwResources(t, r); len(got) != 2 {
				t.Errorf("names %q: %d clusters, want both", names, len(got))
			}
		default:
			t.Fatalf("names %q: the first request was not answered", names)
		}
		held := open(w.group(key).snap.get(resourcev3.ClusterType).version)
		select {
		case <-held:
			t.Fatalf("names %q: a request holding the current version was answered", names)
		default:
		}
		w.set(key, mustBuild(t, translate.Resources{Clusters: []*clusterv3.Cluster{{Name: "c1"}, {Name: "c2"}, {Name: "c3"}}}).prepared)
		select {
		case r := <-held:
			if got := sotwResources(t, r); len(got) != 3 {
				t.Errorf("names %q: %d clusters after the change, want 3", names, len(got))
			}
		default:
			t.Fatalf("names %q: a change did not answer the held request", names)
		}
		w.set(key, mustBuild(t, translate.Resources{Clusters: []*clusterv3.Cluster{{Name: "c1"}, {Name: "c2"}}}).prepared)
	}
}

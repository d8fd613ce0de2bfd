package snapshot

import (
	"context"
	"fmt"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/plainenvoy/controlplane/pkg/translate"
)

// benchResources is a gateway-sized configuration: n clusters and a listener with n filter
// chains; rev changes every cluster's timeout, so two revs differ in every resource.
func benchResources(n, rev int) translate.Resources {
	var r translate.Resources
	l := &listenerv3.Listener{Name: "gateway", StatPrefix: fmt.Sprintf("rev-%d", rev), Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
		SocketAddress: &corev3.SocketAddress{Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080}}}}}
	for i := range n {
		name := fmt.Sprintf("outbound|8080||svc-%d.ns.svc.cluster.local", i)
		r.Clusters = append(r.Clusters, &clusterv3.Cluster{Name: name, ConnectTimeout: durationpb.New(time.Second + time.Duration(rev))})
		l.FilterChains = append(l.FilterChains, &listenerv3.FilterChain{Name: name,
			FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: []string{fmt.Sprintf("svc-%d.example.com", i)}}})
	}
	r.Listeners = []*listenerv3.Listener{l}
	return r
}

func BenchmarkSnapshotHash(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("resources=%d", n), func(b *testing.B) {
			r := benchResources(n, 0)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := build(r, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPush1000Proxies is one push to 1,000 SotW proxies in 10 groups, without the
// network: set a changed snapshot in every group, then for every proxy encode its listener and
// cluster responses as gRPC would and open the next watches (its ACKs). cache=gcp is
// go-control-plane's snapshot cache, which marshals every resource per proxy, for comparison.
func BenchmarkPush1000Proxies(b *testing.B) {
	const proxies, groups = 1000, 10
	for _, n := range []int{10, 100} {
		revs := [2]built{mustBenchBuild(b, benchResources(n, 0)), mustBenchBuild(b, benchResources(n, 1))}
		nodes := make([]*corev3.Node, proxies)
		for i := range nodes {
			nodes[i] = testNode(fmt.Sprintf("gw-%d", i), fmt.Sprintf("ns-%d", i%groups))
		}
		keys := make([]string, groups)
		for i := range keys {
			keys[i] = groupHash{}.ID(nodes[i])
		}
		b.Run(fmt.Sprintf("cache=prepared/encode=wire/resources=%d", n), func(b *testing.B) {
			w := newWatcher()
			set := func(key string, rev built) { w.set(key, rev.prepared) }
			benchPush(b, w, set, wireEncode(b, &w.wires), nodes, keys, revs)
		})
		b.Run(fmt.Sprintf("cache=prepared/encode=proto/resources=%d", n), func(b *testing.B) {
			w := newWatcher()
			set := func(key string, rev built) { w.set(key, rev.prepared) }
			benchPush(b, w, set, protoEncode(b), nodes, keys, revs)
		})
		b.Run(fmt.Sprintf("cache=gcp/encode=proto/resources=%d", n), func(b *testing.B) {
			c := cache.NewSnapshotCache(true, groupHash{}, nil)
			set := func(key string, rev built) { _ = c.SetSnapshot(context.Background(), key, rev.snap) }
			benchPush(b, c, set, protoEncode(b), nodes, keys, revs)
		})
	}
}

func mustBenchBuild(b *testing.B, r translate.Resources) built {
	b.Helper()
	bt, err := build(r, nil)
	if err != nil {
		b.Fatal(err)
	}
	return bt
}

// protoEncode encodes a response as grpc-go's proto codec does.
func protoEncode(b *testing.B) func(*discoveryv3.DiscoveryResponse) {
	codec := encoding.GetCodecV2(grpcproto.Name)
	return func(resp *discoveryv3.DiscoveryResponse) {
		bs, err := codec.Marshal(resp)
		if err != nil {
			b.Fatal(err)
		}
		bs.Free()
	}
}

// wireEncode encodes a response as the ADS server does: in its prepared form when it has one.
func wireEncode(b *testing.B, reg *wireRegistry) func(*discoveryv3.DiscoveryResponse) {
	codec := newWireCodec()
	return func(resp *discoveryv3.DiscoveryResponse) {
		var msg any = resp
		if w := reg.wire(resp); w != nil {
			msg = w
		} else {
			b.Fatal("a full response was not sent in its prepared form")
		}
		bs, err := codec.Marshal(msg)
		if err != nil {
			b.Fatal(err)
		}
		bs.Free()
	}
}

func benchPush(b *testing.B, w cache.ConfigWatcher, set func(string, built), encode func(*discoveryv3.DiscoveryResponse),
	nodes []*corev3.Node, keys []string, revs [2]built) {
	types := []string{resourcev3.ClusterType, resourcev3.ListenerType}
	outs := make([]chan cache.Response, len(nodes)*len(types))
	subs := make([]streamv3.Subscription, len(outs))
	// ack records what the server would (the returned resources) and opens the next watch.
	ack := func(i int, resp cache.Response) {
		version := ""
		if resp != nil {
			subs[i].SetReturnedResources(resp.GetReturnedResources())
			version = resp.GetResponseVersion()
		}
		req := &cache.Request{Node: nodes[i/len(types)], TypeUrl: types[i%len(types)], VersionInfo: version}
		if _, err := w.CreateWatch(req, &subs[i], outs[i]); err != nil {
			b.Fatal(err)
		}
	}
	for _, key := range keys {
		set(key, revs[0])
	}
	for i := range outs {
		outs[i] = make(chan cache.Response, 1)
		subs[i] = streamv3.NewSotwSubscription(nil, true)
		ack(i, nil)
		ack(i, <-outs[i])
	}
	b.ReportAllocs()
	rev := 0
	for b.Loop() {
		rev = 1 - rev
		for _, key := range keys {
			set(key, revs[rev])
		}
		for i, out := range outs {
			r := <-out
			resp, err := r.GetDiscoveryResponse()
			if err != nil {
				b.Fatal(err)
			}
			resp.Nonce = "1"
			encode(resp)
			ack(i, r)
		}
	}
}

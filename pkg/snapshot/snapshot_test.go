package snapshot

import (
	"errors"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/plainenvoy/controlplane/pkg/translate"
)

func cluster(name string, secret string) *clusterv3.Cluster {
	c := &clusterv3.Cluster{Name: name, ConnectTimeout: durationpb.New(1e9)}
	if secret != "" {
		tlsCtx, _ := anypb.New(&tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
			TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: secret, SdsConfig: &corev3.ConfigSource{
				ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}}},
		}})
		c.TransportSocket = &corev3.TransportSocket{Name: "envoy.transport_sockets.tls",
			ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: tlsCtx}}
	}
	return c
}

func TestVersionsAreContentHashes(t *testing.T) {
	a := translate.Resources{Clusters: []*clusterv3.Cluster{cluster("a", "")}, Listeners: []*listenerv3.Listener{{Name: "l"}}}
	same := translate.Resources{Clusters: []*clusterv3.Cluster{cluster("a", "")}, Listeners: []*listenerv3.Listener{{Name: "l"}}}
	other := translate.Resources{Clusters: []*clusterv3.Cluster{cluster("b", "")}, Listeners: []*listenerv3.Listener{{Name: "l"}}}
	ba, err := build(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	bs, _ := build(same, nil)
	bo, _ := build(other, nil)
	if ba.version != bs.version || ba.prepared.get(resourcev3.ClusterType).version != bs.prepared.get(resourcev3.ClusterType).version {
		t.Fatalf("equal content, different versions: %v %v", ba.version, bs.version)
	}
	if ba.version == bo.version || ba.prepared.get(resourcev3.ClusterType).version == bo.prepared.get(resourcev3.ClusterType).version {
		t.Fatal("different clusters, same version")
	}
	if ba.prepared.get(resourcev3.ListenerType).version != bo.prepared.get(resourcev3.ListenerType).version {
		t.Fatal("unchanged listeners got a new version: they would be re-sent")
	}
	if got := ba.snap.GetVersion(resourcev3.ClusterType); got != ba.prepared.get(resourcev3.ClusterType).version {
		t.Fatalf("snapshot cds version %s, want %s", got, ba.prepared.get(resourcev3.ClusterType).version)
	}
}

func TestCheck(t *testing.T) {
	tests := map[string]struct {
		res      translate.Resources
		wantKind string // "" for valid
	}{
		"valid with its secret": {res: translate.Resources{
			Clusters: []*clusterv3.Cluster{cluster("a", "cert")}, Secrets: []*tlsv3.Secret{{Name: "cert"}}}},
		"invalid cluster": {res: translate.Resources{Clusters: []*clusterv3.Cluster{{Name: "a", ConnectTimeout: durationpb.New(-1)}}},
			wantKind: "invalid"},
		"secret missing": {res: translate.Resources{Clusters: []*clusterv3.Cluster{cluster("a", "cert")}},
			wantKind: "dangling_reference"},
		"route not referenced": {res: translate.Resources{Routes: []*routev3.RouteConfiguration{{Name: "r"}}},
			wantKind: "dangling_reference"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := build(tc.res, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = check(tc.res, b.snap, nil)
			var ce *configError
			switch {
			case tc.wantKind == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantKind != "" && (!errors.As(err, &ce) || ce.kind != tc.wantKind):
				t.Fatalf("got %v, want a %s error", err, tc.wantKind)
			}
		})
	}
}

package e2e

import (
	"fmt"
	"net"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/xds"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/snapshot"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// grpcResources is what a proxyless gRPC client needs for target xds:///greeter: an API
// listener, its route, an EDS cluster and its endpoints (the backend's address).
func grpcResources(backend *net.TCPAddr) snapshot.TranslateFunc {
	return func(translate.Inputs) (translate.Resources, []model.Problem) {
		ads := &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3,
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}
		router, _ := anypb.New(&routerv3.Router{})
		hcm, _ := anypb.New(&hcmv3.HttpConnectionManager{
			RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: ads, RouteConfigName: "greeter-route"}},
			HttpFilters:    []*hcmv3.HttpFilter{{Name: "router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router}}},
		})
		return translate.Resources{
			Listeners: []*listenerv3.Listener{{Name: "greeter", ApiListener: &listenerv3.ApiListener{ApiListener: hcm}}},
			Routes: []*routev3.RouteConfiguration{{Name: "greeter-route", VirtualHosts: []*routev3.VirtualHost{{
				Name: "greeter", Domains: []string{"*"},
				Routes: []*routev3.Route{{
					Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: ""}},
					Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "greeter-cluster"}}},
				}},
			}}}},
			Clusters: []*clusterv3.Cluster{{
				Name:                 "greeter-cluster",
				ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
				EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads},
			}},
			Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: "greeter-cluster", Endpoints: []*endpointv3.LocalityLbEndpoints{{
				LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
					Endpoint: &endpointv3.Endpoint{Address: socketAddress(backend.IP.String(), uint32(backend.Port))}}}},
				// gRPC rejects localities without an ID and ignores those without a weight.
				Locality:            &corev3.Locality{Region: "local"},
				LoadBalancingWeight: wrapperspb.UInt32(1),
			}}}},
		}, nil
	}
}

// TestGRPCXDSClient uses grpc-go's own xDS client as an independent consumer: it resolves
// xds:///greeter through the control plane (LDS → RDS → CDS → EDS) and makes an RPC to the
// backend the endpoints name, ACKing every type.
func TestGRPCXDSClient(t *testing.T) {
	backendLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backend := grpc.NewServer()
	healthpb.RegisterHealthServer(backend, health.NewServer())
	go func() { _ = backend.Serve(backendLis) }()
	t.Cleanup(backend.Stop)

	srv := startServer(t, snapshot.Options{Translate: grpcResources(backendLis.Addr().(*net.TCPAddr))})
	srv.SetStore(storeWith())
	bootstrap := fmt.Sprintf(`{
  "xds_servers": [{"server_uri": %q, "channel_creds": [{"type": "insecure"}], "server_features": ["xds_v3"]}],
  "node": {"id": "grpc-client-1", "cluster": "greeter-client",
           "metadata": {"role": "sidecar", "namespace": "foo", "service_account": "client", "labels": {"app": "client"}}}
}`, srv.Addr)
	resolver, err := xds.NewXDSResolverWithConfigForTesting([]byte(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient("xds:///greeter", grpc.WithResolvers(resolver), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := contextWithTimeout(t, 10*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	if err != nil {
		t.Fatalf("RPC through xDS: %v; proxies: %+v", err, srv.Status())
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v", resp.GetStatus())
	}
	ps := proxyStatus(t, srv.Server, "grpc-client-1", func(ps snapshot.ProxyStatus) bool {
		for _, typ := range []string{"lds", "rds", "cds", "eds"} {
			if ps.Types[typ].State != "SYNCED" {
				return false
			}
		}
		return true
	})
	if ps.Role != "sidecar" || ps.Delta {
		t.Fatalf("status %+v", ps)
	}
}

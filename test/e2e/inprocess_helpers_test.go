package e2e

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	securityv1beta1 "istio.io/api/security/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/snapshot"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// testServer is an in-process control plane on a loopback port.
type testServer struct {
	*snapshot.Server
	Addr string
	Reg  *prometheus.Registry
}

// startServer serves ADS in-process (plaintext) until the test ends.
func startServer(t *testing.T, opts snapshot.Options) *testServer {
	return startServerTLS(t, opts, nil)
}

// startServerTLS serves ADS in-process, over TLS when cfg is set, until the test ends.
func startServerTLS(t *testing.T, opts snapshot.Options, cfg *tls.Config) *testServer {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	srv, err := snapshot.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 2)
	go func() { errc <- srv.Run(ctx) }()
	go func() { errc <- srv.Serve(ctx, lis, snapshot.ServeOptions{DrainTimeout: time.Second, TLS: cfg}) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-errc; err != nil {
				t.Errorf("server: %v", err)
			}
		}
	})
	return &testServer{Server: srv, Addr: lis.Addr().String(), Reg: reg}
}

// handMade is a translation that does not depend on the real translator: one TCP listener and
// one static cluster whose connect timeout counts the AuthorizationPolicies that apply to the
// proxy (its namespace's and the root namespace's), so a policy edit changes exactly the
// groups it would change in production. A policy named "make-invalid" yields a cluster that
// fails validation, as a translation bug would.
func handMade(in translate.Inputs) (translate.Resources, []model.Problem) {
	n := 0
	invalid := false
	for _, ap := range in.Store.AuthorizationPolicies {
		if ap.Namespace == in.Proxy.Namespace || ap.Namespace == in.Store.Mesh.RootNamespace {
			n++
			invalid = invalid || ap.Name == "make-invalid"
		}
	}
	timeout := durationpb.New(time.Duration(n+1) * time.Second)
	if invalid {
		timeout = durationpb.New(-time.Second)
	}
	cluster := &clusterv3.Cluster{
		Name:                 "backend",
		ConnectTimeout:       timeout,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		LoadAssignment: &endpointv3.ClusterLoadAssignment{ClusterName: "backend", Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
				Endpoint: &endpointv3.Endpoint{Address: socketAddress("127.0.0.1", 9)}}}},
		}}},
	}
	tcp, _ := anypb.New(&tcpproxyv3.TcpProxy{StatPrefix: "backend",
		ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: "backend"}})
	listener := &listenerv3.Listener{
		Name:    "main",
		Address: socketAddress("0.0.0.0", 10000),
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name: "envoy.filters.network.tcp_proxy", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: tcp},
		}}}},
	}
	return translate.Resources{Listeners: []*listenerv3.Listener{listener}, Clusters: []*clusterv3.Cluster{cluster}}, nil
}

func socketAddress(ip string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}
}

// storeWith builds a store holding AuthorizationPolicies named "ns/name".
func storeWith(policies ...string) *model.Store {
	var objs []model.Object
	for _, p := range policies {
		ns, name, _ := strings.Cut(p, "/")
		objs = append(objs, &model.AuthorizationPolicy{
			Meta: model.Meta{Kind: model.KindAuthorizationPolicy, Namespace: ns, Name: name},
			Spec: &securityv1beta1.AuthorizationPolicy{},
		})
	}
	return model.NewStore(model.Mesh{}, objs)
}

func gatewayNode(id, ns string) *corev3.Node {
	return Node(id, "gateway", ns, map[string]string{"istio": "ingressgateway"}, "")
}

// dial connects a client and closes it when the test ends.
func dial(t *testing.T, addr string, node *corev3.Node, delta bool) *Client {
	t.Helper()
	c, err := Dial(t.Context(), addr, node, delta)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// next waits for the next response, failing the test after a few seconds.
func next(t *testing.T, c *Client) Response {
	t.Helper()
	r, err := c.Next(5 * time.Second)
	if err != nil {
		t.Fatalf("%s: %v", c.Node.GetId(), err)
	}
	return r
}

// quiet is how long a test waits to conclude that no push comes. The assertions that use it
// can only pass wrongly (a push later than this), never fail wrongly.
const quiet = 300 * time.Millisecond

// expectNothing fails if a response arrives within quiet.
func expectNothing(t *testing.T, c *Client) {
	t.Helper()
	r, err := c.Next(quiet)
	if err == nil {
		t.Fatalf("%s: unexpected push of %s version %s", c.Node.GetId(), r.TypeURL, r.Version)
	}
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("%s: %v", c.Node.GetId(), err)
	}
}

// proxyStatus returns the status of the proxy with node id, waiting for it to appear.
func proxyStatus(t *testing.T, srv *snapshot.Server, id string, ok func(snapshot.ProxyStatus) bool) snapshot.ProxyStatus {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, ps := range srv.Status() {
			if ps.NodeID == id && ok(ps) {
				return ps
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("proxy %s never reached the expected state; status: %+v", id, srv.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}

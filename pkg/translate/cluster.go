package translate

import (
	"slices"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// connectTimeout is Istio's default (MeshConfig connectTimeout).
const connectTimeout = 10 * time.Second

// clusterKey identifies one outbound cluster: a service port, optionally narrowed to a subset.
type clusterKey struct {
	svc    *service
	port   *networkingv1alpha3.ServicePort
	subset string
	labels map[string]string // the subset's labels; nil for the whole service
}

func (k clusterKey) name() string {
	return outboundClusterName(k.port.GetNumber(), k.subset, k.svc.Host)
}

// clusterSet collects the outbound clusters a proxy's routes and listeners refer to, so that
// exactly those (and their endpoints) are emitted.
type clusterSet struct {
	keys map[string]clusterKey
}

func newClusterSet() *clusterSet { return &clusterSet{keys: map[string]clusterKey{}} }

func (cs *clusterSet) add(k clusterKey) string {
	n := k.name()
	cs.keys[n] = k
	return n
}

// build emits the clusters and the EDS resources of those that use EDS.
func (cs *clusterSet) build(in Inputs) ([]*clusterv3.Cluster, []*endpointv3.ClusterLoadAssignment, []model.Problem) {
	var clusters []*clusterv3.Cluster
	var eds []*endpointv3.ClusterLoadAssignment
	var problems []model.Problem
	for _, name := range slicesSortedKeys(cs.keys) {
		k := cs.keys[name]
		c, cla, ps := outboundCluster(in, k)
		problems = append(problems, ps...)
		clusters = append(clusters, c)
		if cla != nil {
			eds = append(eds, cla)
		}
	}
	return clusters, eds, problems
}

// outboundCluster builds the cluster for a service port: EDS for STATIC resolution, DNS
// clusters for DNS resolution, and ORIGINAL_DST for NONE, as Istio does. When no
// DestinationRule sets this proxy's TLS toward it, the cluster (automatic mTLS or plaintext)
// depends on the store alone and is shared, read-only, by every proxy group that resolves it
// so (clusterMemo); nothing may modify it afterwards (useExternalWorkloadSDS copies).
func outboundCluster(in Inputs, k clusterKey) (*clusterv3.Cluster, *endpointv3.ClusterLoadAssignment, []model.Problem) {
	if t, _ := clientTLSFor(destinationRuleFor(in, k.svc), k); t != nil {
		return buildOutboundCluster(in, k)
	}
	// Without DestinationRule TLS, upstreamTransportSocket reports no problems (automatic mTLS
	// or plaintext): nothing is lost by sharing.
	b := clusterMemoOf(in.Store).get(memoIDOf(k), func() builtCluster {
		c, cla, _ := buildOutboundCluster(in, k)
		return builtCluster{c: c, cla: cla}
	})
	return b.c, b.cla, nil
}

func buildOutboundCluster(in Inputs, k clusterKey) (*clusterv3.Cluster, *endpointv3.ClusterLoadAssignment, []model.Problem) {
	name := k.name()
	c := &clusterv3.Cluster{
		Name:           name,
		ConnectTimeout: durationpb.New(connectTimeout),
	}
	if protocolOf(k.port) == protocolHTTP2 {
		c.TypedExtensionProtocolOptions = http2Options()
	}
	sec, problems := upstreamTransportSocket(in, k)
	sec.apply(c, protocolOf(k.port) == protocolHTTP2)
	cla := sharedLoadAssignment(in, name, k, sec)
	switch k.svc.Resolution {
	case networkingv1alpha3.ServiceEntry_DNS:
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}
		c.LoadAssignment = dnsLoadAssignment(name, k, cla)
	case networkingv1alpha3.ServiceEntry_DNS_ROUND_ROBIN:
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_LOGICAL_DNS}
		c.LoadAssignment = dnsLoadAssignment(name, k, cla)
	case networkingv1alpha3.ServiceEntry_NONE:
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_ORIGINAL_DST}
		c.LbPolicy = clusterv3.Cluster_CLUSTER_PROVIDED
	default:
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}
		c.EdsClusterConfig = &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsConfigSource()}
		return c, cla, problems
	}
	return c, nil, problems
}

// loadAssignment lists the endpoints of a service port (of one subset), sorted by address,
// each tagged with its tlsMode when the cluster chooses TLS per endpoint (automatic mTLS).
func loadAssignment(name string, k clusterKey, sec clusterTLS) *endpointv3.ClusterLoadAssignment {
	var lbs []*endpointv3.LbEndpoint
	metadata := map[string]*corev3.Metadata{}
	for _, e := range k.svc.Endpoints {
		if e.Address == "" || !model.SelectorMatches(k.labels, e.Labels) {
			continue
		}
		lb := &endpointv3.LbEndpoint{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address: socketAddress(e.Address, e.targetPort(k.port)),
			}},
			Metadata: sec.endpointMetadata(e, metadata),
		}
		if e.Weight > 0 {
			lb.LoadBalancingWeight = wrapperspb.UInt32(e.Weight)
		}
		lbs = append(lbs, lb)
	}
	slices.SortStableFunc(lbs, func(a, b *endpointv3.LbEndpoint) int {
		return compareAddress(a.GetEndpoint().GetAddress(), b.GetEndpoint().GetAddress())
	})
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: name}
	if len(lbs) > 0 {
		cla.Endpoints = []*endpointv3.LocalityLbEndpoints{{LbEndpoints: lbs}}
	}
	return cla
}

// dnsLoadAssignment: a DNS service without endpoints resolves its own host name.
func dnsLoadAssignment(name string, k clusterKey, cla *endpointv3.ClusterLoadAssignment) *endpointv3.ClusterLoadAssignment {
	if len(cla.GetEndpoints()) > 0 {
		return cla
	}
	return &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{{
		LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
			Endpoint: &endpointv3.Endpoint{Address: socketAddress(k.svc.Host, k.port.GetNumber())},
		}}},
	}}}
}

// inboundCluster sends traffic for a workload port to the application on loopback.
func inboundCluster(targetPort uint32, p protocol) *clusterv3.Cluster {
	name := inboundClusterName(targetPort)
	c := &clusterv3.Cluster{
		Name:                 name,
		ConnectTimeout:       durationpb.New(connectTimeout),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		LoadAssignment: &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
				Endpoint: &endpointv3.Endpoint{Address: socketAddress("127.0.0.1", targetPort)},
			}}},
		}}},
	}
	if p == protocolHTTP2 {
		c.TypedExtensionProtocolOptions = http2Options()
	}
	return c
}

// passthroughClusterResource forwards to the original destination (Istio's ALLOW_ANY
// outbound traffic policy).
func passthroughClusterResource() *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 passthroughCluster,
		ConnectTimeout:       durationpb.New(connectTimeout),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_ORIGINAL_DST},
		LbPolicy:             clusterv3.Cluster_CLUSTER_PROVIDED,
	}
}

func http2Options() map[string]*anypb.Any {
	return map[string]*anypb.Any{
		"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": mustAny(&httpv3.HttpProtocolOptions{
			UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
				ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
					ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
						Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
					},
				},
			},
		}),
	}
}

package translate

import (
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rawbufferv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/raw_buffer/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// tlsModeLabel says whether a workload runs an Istio-compatible proxy ("istio") or not.
const tlsModeLabel = "security.istio.io/tlsMode"

// transportSocketMatchKey is the endpoint metadata namespace transport_socket_matches read.
const transportSocketMatchKey = "envoy.transport_socket_match"

// clusterTLS is a cluster's transport security: one socket for every endpoint, or (automatic
// mTLS) matches chosen per endpoint by the tlsMode its metadata carries.
type clusterTLS struct {
	socket  *corev3.TransportSocket
	matches []*clusterv3.Cluster_TransportSocketMatch
	// endpointMode gives an endpoint's tlsMode ("istio" or "disabled") when matches are set.
	endpointMode func(endpoint) string
	// autoSNI / autoSAN: set SNI (and verify the certificate) from each request's host.
	autoSNI, autoSAN bool
}

// apply sets the cluster's transport socket fields and, for auto SNI, its HTTP protocol
// options (keeping HTTP/2 where the port asked for it).
func (t clusterTLS) apply(c *clusterv3.Cluster, http2 bool) {
	c.TransportSocket = t.socket
	c.TransportSocketMatches = t.matches
	if !t.autoSNI {
		return
	}
	opts := &httpv3.HttpProtocolOptions{
		UpstreamHttpProtocolOptions: &corev3.UpstreamHttpProtocolOptions{AutoSni: true, AutoSanValidation: t.autoSAN},
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: &corev3.Http1ProtocolOptions{}},
		}},
	}
	if http2 {
		opts.UpstreamProtocolOptions = &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}},
		}}
	}
	c.TypedExtensionProtocolOptions = map[string]*anypb.Any{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": mustAny(opts)}
}

// endpointMetadata tags an endpoint for transport_socket_matches. The endpoints of one load
// assignment share one Metadata per tlsMode value (seen), read-only: hundreds of endpoints
// otherwise carried as many identical maps, a tenth of a sidecar's translation.
func (t clusterTLS) endpointMetadata(e endpoint, seen map[string]*corev3.Metadata) *corev3.Metadata {
	if t.endpointMode == nil {
		return nil
	}
	mode := t.endpointMode(e)
	if m, ok := seen[mode]; ok {
		return m
	}
	m := &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{
		transportSocketMatchKey: {Fields: map[string]*structpb.Value{"tlsMode": structpb.NewStringValue(mode)}},
	}}
	seen[mode] = m
	return m
}

// autoMTLSApplies: automatic mTLS is for mesh services whose namespace (or the mesh) does not
// disable mTLS (SEMANTICS.md §6.4).
func autoMTLSApplies(in Inputs, svc *service) bool {
	if se := serviceEntryOf(in, svc); se != nil && se.Spec.GetLocation() == networkingv1alpha3.ServiceEntry_MESH_EXTERNAL {
		return false
	}
	return namespaceMTLS(in, svc.Namespace) != mtlsDisable
}

// autoMTLS sends mesh mTLS to endpoints that run a proxy which accepts it on that port, and
// plaintext to the others.
func autoMTLS(in Inputs, k clusterKey) clusterTLS {
	mtls := tlsTransportSocket(istioMutualUpstream(k, serviceIdentities(in, k.svc), ""))
	return clusterTLS{
		matches: []*clusterv3.Cluster_TransportSocketMatch{
			{Name: "tlsMode-istio", Match: tlsModeMatch("istio"), TransportSocket: mtls},
			{Name: "tlsMode-disabled", Match: &structpb.Struct{}, TransportSocket: &corev3.TransportSocket{
				Name:       "envoy.transport_sockets.raw_buffer",
				ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(&rawbufferv3.RawBuffer{})},
			}},
		},
		endpointMode: func(e endpoint) string {
			if !runsProxy(e) {
				return "disabled"
			}
			pa, _ := peerAuthnFor(in, k.svc.Namespace, e.Labels) // problems are reported to that workload's own proxy
			if pa.forPort(e.targetPort(k.port)) == mtlsDisable {
				return "disabled"
			}
			return "istio"
		},
	}
}

func tlsModeMatch(mode string) *structpb.Struct {
	return &structpb.Struct{Fields: map[string]*structpb.Value{"tlsMode": structpb.NewStringValue(mode)}}
}

// runsProxy decides as istiod does: the security.istio.io/tlsMode label wins ("istio" = yes);
// without it a WorkloadEntry (or inline endpoint) has a proxy when it names a service account.
// A proxy-less WorkloadEntry must therefore say security.istio.io/tlsMode: disabled.
func runsProxy(e endpoint) bool {
	if v, ok := e.Labels[tlsModeLabel]; ok {
		return v == "istio"
	}
	return e.ServiceAccount != ""
}

// serviceIdentities are the SPIFFE IDs a mesh client accepts from a service: its endpoints'
// service accounts in every trust domain of the mesh, plus the ServiceEntry's subjectAltNames.
// They depend on the store alone, so they are derived once per store and service (the
// service of the store's registry) and shared, read-only, by every cluster and proxy group.
func serviceIdentities(in Inputs, svc *service) []string {
	return in.Store.Derived(identitiesKey{svc}, func() any { return computeServiceIdentities(in, svc) }).([]string)
}

type identitiesKey struct{ svc *service }

func computeServiceIdentities(in Inputs, svc *service) []string {
	var out []string
	for _, e := range svc.Endpoints {
		if e.ServiceAccount == "" {
			continue
		}
		for _, td := range trustDomains(in.Store.Mesh) {
			out = append(out, "spiffe://"+td+"/ns/"+svc.Namespace+"/sa/"+e.ServiceAccount)
		}
	}
	out = append(out, serviceEntrySANs(in, svc)...)
	slices.Sort(out)
	return slices.Compact(out)
}

func serviceEntrySANs(in Inputs, svc *service) []string {
	if se := serviceEntryOf(in, svc); se != nil {
		return se.Spec.GetSubjectAltNames()
	}
	return nil
}

// serviceEntryOf finds the ServiceEntry a service was built from.
func serviceEntryOf(in Inputs, svc *service) *model.ServiceEntry {
	if svc.Origin == nil {
		return nil
	}
	for _, se := range in.Store.ServiceEntries {
		if se.Namespace == svc.Origin.Namespace && se.Name == svc.Origin.Name {
			return se
		}
	}
	return nil
}

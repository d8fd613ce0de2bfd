package translate

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
)

// useExternalWorkloadSDS points every reference to the workload certificate and trust bundle
// ("default", "ROOTCA") at the SDS agent cluster the proxy named (a SPIRE agent, say), instead
// of ADS: the control plane then never serves, or even holds, that proxy's keys. Credentials
// (kubernetes://...) stay on ADS.
func useExternalWorkloadSDS(r *Resources, cluster string) {
	src := &corev3.ConfigSource{
		ResourceApiVersion: corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_ApiConfigSource{ApiConfigSource: &corev3.ApiConfigSource{
			ApiType:             corev3.ApiConfigSource_GRPC,
			TransportApiVersion: corev3.ApiVersion_V3,
			GrpcServices: []*corev3.GrpcService{{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
				EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: cluster}}}},
		}},
	}
	for _, l := range r.Listeners {
		for _, fc := range l.GetFilterChains() {
			fc.TransportSocket = withWorkloadSDS(fc.GetTransportSocket(), src)
		}
	}
	for i, c := range r.Clusters {
		// Outbound clusters may be shared with other proxies (outboundCluster): rewrite a copy.
		c = proto.Clone(c).(*clusterv3.Cluster)
		r.Clusters[i] = c
		c.TransportSocket = withWorkloadSDS(c.GetTransportSocket(), src)
		for _, m := range c.GetTransportSocketMatches() {
			m.TransportSocket = withWorkloadSDS(m.GetTransportSocket(), src)
		}
	}
}

// withWorkloadSDS rewrites the workload SDS references of a TLS transport socket.
func withWorkloadSDS(ts *corev3.TransportSocket, src *corev3.ConfigSource) *corev3.TransportSocket {
	if ts.GetTypedConfig() == nil {
		return ts
	}
	var common *tlsv3.CommonTlsContext
	down, up := &tlsv3.DownstreamTlsContext{}, &tlsv3.UpstreamTlsContext{}
	switch {
	case ts.GetTypedConfig().MessageIs(down) && ts.GetTypedConfig().UnmarshalTo(down) == nil:
		common = down.GetCommonTlsContext()
		defer func() { ts.ConfigType = &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(down)} }()
	case ts.GetTypedConfig().MessageIs(up) && ts.GetTypedConfig().UnmarshalTo(up) == nil:
		common = up.GetCommonTlsContext()
		defer func() { ts.ConfigType = &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(up)} }()
	default:
		return ts
	}
	refs := common.GetTlsCertificateSdsSecretConfigs()
	if v := common.GetCombinedValidationContext().GetValidationContextSdsSecretConfig(); v != nil {
		refs = append(refs, v)
	}
	for _, ref := range refs {
		if ref.GetName() == sdsWorkloadCert || ref.GetName() == sdsRootCA {
			ref.SdsConfig = src
		}
	}
	return ts
}

package translate

import (
	"slices"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// SDS names of the workload's own certificate and the mesh roots (Istio's names). They are
// served over ADS by the serving layer, and only to a proxy that proved its identity.
const (
	sdsWorkloadCert = "default"
	sdsRootCA       = "ROOTCA"
)

// meshALPN is what Istio clients offer on mesh mTLS connections; a PERMISSIVE chain matching
// one of them is the mesh chain (SEMANTICS.md §5.2).
func meshALPN() []string {
	return []string{"istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2"}
}

// httpALPN is offered by chains that terminate TLS in front of an HTTP connection manager.
func httpALPN() []string { return []string{"h2", "http/1.1"} }

// meshCipherSuites is Istio's default TLS 1.2 cipher list for mesh traffic (TLS 1.3 suites
// are not configurable in BoringSSL).
func meshCipherSuites() []string {
	return []string{
		"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
		"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
		"AES256-GCM-SHA384", "AES128-GCM-SHA256",
	}
}

func meshTLSParams() *tlsv3.TlsParameters {
	return &tlsv3.TlsParameters{
		TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2,
		TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3,
		CipherSuites:              meshCipherSuites(),
	}
}

// sdsSecret names a secret served over the proxy's ADS stream.
func sdsSecret(name string) *tlsv3.SdsSecretConfig {
	return &tlsv3.SdsSecretConfig{Name: name, SdsConfig: adsConfigSource()}
}

// tlsTransportSocket wraps a Downstream/UpstreamTlsContext as envoy.transport_sockets.tls.
func tlsTransportSocket(ctx proto.Message) *corev3.TransportSocket {
	return &corev3.TransportSocket{
		Name:       "envoy.transport_sockets.tls",
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)},
	}
}

// trustDomains is the mesh trust domain followed by its aliases, without repeats: peers with
// an identity in any of them are mesh peers.
func trustDomains(mesh model.Mesh) []string {
	out := []string{mesh.WithDefaults().TrustDomain}
	for _, a := range mesh.TrustDomainAliases {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// meshPeerSANs accepts any workload of the mesh: a URI SAN under spiffe://<td>/ for each
// trust domain (the typed form of Istio's match_subject_alt_names prefix, SEMANTICS.md D10).
func meshPeerSANs(mesh model.Mesh) []*tlsv3.SubjectAltNameMatcher {
	var out []*tlsv3.SubjectAltNameMatcher
	for _, td := range trustDomains(mesh) {
		out = append(out, &tlsv3.SubjectAltNameMatcher{
			SanType: tlsv3.SubjectAltNameMatcher_URI,
			Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "spiffe://" + td + "/"}},
		})
	}
	return out
}

// exactSANs matches each name exactly, as a URI SAN when it is a SPIFFE ID, else as a DNS SAN.
func exactSANs(names []string) []*tlsv3.SubjectAltNameMatcher {
	var out []*tlsv3.SubjectAltNameMatcher
	for _, n := range names {
		t := tlsv3.SubjectAltNameMatcher_DNS
		if strings.HasPrefix(n, "spiffe://") {
			t = tlsv3.SubjectAltNameMatcher_URI
		}
		out = append(out, &tlsv3.SubjectAltNameMatcher{
			SanType: t,
			Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: n}},
		})
	}
	return out
}

// sdsValidation validates peers against an SDS-served CA plus static matchers.
func sdsValidation(caName string, static *tlsv3.CertificateValidationContext) *tlsv3.CommonTlsContext_CombinedValidationContext {
	if static == nil {
		static = &tlsv3.CertificateValidationContext{}
	}
	return &tlsv3.CommonTlsContext_CombinedValidationContext{
		CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
			DefaultValidationContext:         static,
			ValidationContextSdsSecretConfig: sdsSecret(caName),
		},
	}
}

// meshCommonTLS presents the workload certificate and validates the peer against the mesh
// roots and the given SAN matchers.
func meshCommonTLS(sans []*tlsv3.SubjectAltNameMatcher, alpn []string) *tlsv3.CommonTlsContext {
	return &tlsv3.CommonTlsContext{
		TlsParams:                      meshTLSParams(),
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{sdsSecret(sdsWorkloadCert)},
		ValidationContextType:          sdsValidation(sdsRootCA, &tlsv3.CertificateValidationContext{MatchTypedSubjectAltNames: sans}),
		AlpnProtocols:                  alpn,
	}
}

// meshServerTLS is the inbound mTLS context of a STRICT or PERMISSIVE port (SEMANTICS.md
// §5.2): a client certificate from a mesh trust domain is required; MeshConfig meshMTLS sets
// the minimum version and cipher suites. HTTP chains negotiate h2/http1.1; TCP chains
// negotiate nothing, so an Istio client's istio-peer-exchange is never selected and no
// exchange bytes reach the application (D1).
func meshServerTLS(mesh model.Mesh, http bool) *tlsv3.DownstreamTlsContext {
	var alpn []string
	if http {
		alpn = httpALPN()
	}
	common := meshCommonTLS(meshPeerSANs(mesh), alpn)
	common.TlsParams = meshInboundTLSParams(mesh)
	return &tlsv3.DownstreamTlsContext{RequireClientCertificate: wrapperspb.Bool(true), CommonTlsContext: common}
}

// systemRootsFile is the CA bundle of Debian-based images, the official Envoy image's among
// them. Istio's agent serves the system roots as "file-root:system"; we have no agent, so a
// SIMPLE/MUTUAL upstream without a CA names the proxy's file rather than skip verification
// (SEMANTICS.md §6.3).
const systemRootsFile = "/etc/ssl/certs/ca-certificates.crt"

func fileSource(path string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: path}}
}

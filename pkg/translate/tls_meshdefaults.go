package translate

import (
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// MeshConfig meshMTLS and tlsDefaults, applied where Istio applies them (model.TLSConfig).
// Unknown or repeated curves and cipher suites are left out, since Envoy would reject the whole
// listener or cluster; model.ValidateMesh reports them where the mesh config is read.

// meshInboundTLSParams is the inbound mesh mTLS parameters: Istio's defaults, with meshMTLS's
// minimum version and cipher suites (pilot/pkg/security/authn/utils BuildInboundTLS).
func meshInboundTLSParams(mesh model.Mesh) *tlsv3.TlsParameters {
	p := meshTLSParams()
	if mesh.MeshMTLS.MinProtocolVersion == "TLSV1_3" {
		p.TlsMinimumProtocolVersion = tlsv3.TlsParameters_TLSv1_3
	}
	if cs := knownNames(mesh.MeshMTLS.CipherSuites, model.ValidCipherSuite); len(cs) > 0 {
		p.CipherSuites = cs
	}
	return p
}

// gatewayTLSDefaults starts the parameters of a SIMPLE/MUTUAL/OPTIONAL_MUTUAL gateway server
// from tlsDefaults (Istio's applyDownstreamTLSDefaults): TLS_AUTO or unset keeps Envoy's
// minimum, any other value is TLS 1.3 for TLSV1_3 and TLS 1.2 otherwise.
func gatewayTLSDefaults(d model.TLSConfig) *tlsv3.TlsParameters {
	p := &tlsv3.TlsParameters{
		EcdhCurves:   knownNames(d.EcdhCurves, model.ValidECDHCurve),
		CipherSuites: knownNames(d.CipherSuites, model.ValidCipherSuite),
	}
	switch d.MinProtocolVersion {
	case "TLSV1_3":
		p.TlsMinimumProtocolVersion = tlsv3.TlsParameters_TLSv1_3
	case "TLSV1_2":
		p.TlsMinimumProtocolVersion = tlsv3.TlsParameters_TLSv1_2
	}
	return p
}

// applyUpstreamTLSDefaults sets tlsDefaults's curves and cipher suites on a SIMPLE/MUTUAL
// upstream; the version stays TLS 1.2–1.3 (Istio's applyTLSDefaults ignores it there).
func applyUpstreamTLSDefaults(p *tlsv3.TlsParameters, d model.TLSConfig) {
	if cs := knownNames(d.EcdhCurves, model.ValidECDHCurve); len(cs) > 0 {
		p.EcdhCurves = cs
	}
	if cs := knownNames(d.CipherSuites, model.ValidCipherSuite); len(cs) > 0 {
		p.CipherSuites = cs
	}
}

// knownNames keeps the valid names, first occurrence only, in order.
func knownNames(names []string, valid func(string) bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		if valid(n) && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

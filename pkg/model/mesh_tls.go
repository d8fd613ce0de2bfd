package model

import "slices"

// TLSConfig is Istio's MeshConfig.TLSConfig, the type of meshConfig.meshMTLS and
// meshConfig.tlsDefaults, with its field names. Where Istio applies each field
// (istio/istio pilot/pkg/networking/core listener.go applyDownstreamTLSDefaults, cluster_tls.go
// applyTLSDefaults, pilot/pkg/security/authn/utils BuildInboundTLS):
//   - meshMTLS: minProtocolVersion and cipherSuites on inbound mesh mTLS (PeerAuthentication
//     STRICT/PERMISSIVE chains); not on outbound ISTIO_MUTUAL clusters. No ecdhCurves.
//   - tlsDefaults: minProtocolVersion, ecdhCurves and cipherSuites on gateway servers in SIMPLE,
//     MUTUAL and OPTIONAL_MUTUAL mode (before the server's own settings, which win);
//     ecdhCurves and cipherSuites (not the version) on DestinationRule SIMPLE/MUTUAL clusters.
type TLSConfig struct {
	// MinProtocolVersion is TLS_AUTO (TLS 1.2), TLSV1_2 or TLSV1_3.
	MinProtocolVersion string   `json:"minProtocolVersion,omitempty"`
	EcdhCurves         []string `json:"ecdhCurves,omitempty"`
	CipherSuites       []string `json:"cipherSuites,omitempty"`
}

// KindMeshConfig names problems in the mesh-wide settings (--mesh-config, MeshConfig).
const KindMeshConfig Kind = "MeshConfig"

// ValidateMesh checks the mesh TLS settings; origin is where they were read from. Unknown
// versions are errors (Istio's MeshConfig would not parse); unknown or repeated curves and
// cipher suites are warnings, and translation leaves them out: Envoy rejects a listener or
// cluster whose TLS context names one it does not know.
func ValidateMesh(m Mesh, origin Origin) []Problem {
	ps := &problems{meta: &Meta{Kind: KindMeshConfig, Origin: origin}}
	validateTLSConfig(ps, "meshMTLS", m.MeshMTLS)
	if len(m.MeshMTLS.EcdhCurves) > 0 {
		ps.errorf("meshMTLS.ecdhCurves", "mesh TLS does not support ECDH curves configuration")
	}
	validateTLSConfig(ps, "tlsDefaults", m.TLSDefaults)
	return SortProblems(ps.list)
}

func validateTLSConfig(ps *problems, field string, c TLSConfig) {
	switch c.MinProtocolVersion {
	case "", "TLS_AUTO", "TLSV1_2", "TLSV1_3":
	default:
		ps.errorf(field+".minProtocolVersion", "unknown TLS version %q (expected TLS_AUTO, TLSV1_2 or TLSV1_3)", c.MinProtocolVersion)
	}
	checkNames(ps, field+".ecdhCurves", "ECDH curve", c.EcdhCurves, ValidECDHCurve)
	checkNames(ps, field+".cipherSuites", "cipher suite", c.CipherSuites, ValidCipherSuite)
}

func checkNames(ps *problems, field, what string, names []string, valid func(string) bool) {
	for i, n := range names {
		switch {
		case !valid(n):
			ps.warnf(fieldPath(field, i), "unrecognized %s %q ignored", what, n)
		case slices.Contains(names[:i], n):
			ps.warnf(fieldPath(field, i), "duplicate %s %q ignored", what, n)
		}
	}
}

// ValidECDHCurve is Istio's list for tlsDefaults.ecdhCurves (pkg/config/security
// ValidECDHCurves: the groups BoringSSL accepts).
func ValidECDHCurve(c string) bool {
	return slices.Contains([]string{"P-224", "P-256", "P-521", "P-384", "X25519", "X25519Kyber768Draft00", "X25519MLKEM768"}, c)
}

// ValidCipherSuite is Istio's check (pkg/config/security IsValidCipherSuite: BoringSSL names
// without PSK); "ALL" and expressions starting with an operator such as "-" or "[" are passed
// through, an empty name is not.
func ValidCipherSuite(cs string) bool {
	if cs == "" {
		return false
	}
	if cs == "ALL" {
		return true
	}
	if c := cs[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
		return true
	}
	return slices.Contains([]string{
		"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
		"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
		"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
		"ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
		"AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA", "AES256-SHA", "DES-CBC3-SHA",
	}, cs)
}

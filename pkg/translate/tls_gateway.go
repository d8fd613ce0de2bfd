package translate

import (
	"fmt"
	"slices"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// gatewayServerTLS is the DownstreamTlsContext of a terminating gateway server (SEMANTICS.md
// §7.2). Credentials are referenced by SDS name even when they cannot be served: the chain then
// fails its handshakes, it is never served without TLS or with another certificate.
func gatewayServerTLS(in Inputs, s gatewayServer) (*tlsv3.DownstreamTlsContext, []model.Problem) {
	t := s.server.GetTls()
	field := s.field() + ".tls"
	params, problems := serverTLSParams(s.gw, field, t)
	common := &tlsv3.CommonTlsContext{TlsParams: params, AlpnProtocols: httpALPN()}
	mode := t.GetMode()
	static := &tlsv3.CertificateValidationContext{
		MatchTypedSubjectAltNames: exactSANs(t.GetSubjectAltNames()),
		VerifyCertificateSpki:     t.GetVerifyCertificateSpki(),
		VerifyCertificateHash:     t.GetVerifyCertificateHash(),
	}
	if mode == networkingv1alpha3.ServerTLSSettings_ISTIO_MUTUAL {
		common.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{sdsSecret(sdsWorkloadCert)}
		common.ValidationContextType = sdsValidation(sdsRootCA, static)
		return &tlsv3.DownstreamTlsContext{CommonTlsContext: common, RequireClientCertificate: wrapperspb.Bool(true)}, problems
	}
	creds := t.GetCredentialNames()
	if cn := t.GetCredentialName(); cn != "" {
		creds = []string{cn}
	}
	for i, cn := range creds {
		f := field + ".credentialName"
		if len(t.GetCredentialNames()) > 0 && t.GetCredentialName() == "" {
			f = fmt.Sprintf("%s.credentialNames[%d]", field, i)
		}
		name := credentialResource(cn)
		common.TlsCertificateSdsSecretConfigs = append(common.TlsCertificateSdsSecretConfigs, sdsSecret(name))
		problems = append(problems, credentialProblems(in, &s.gw.Meta, f, name, false)...)
	}
	if len(creds) == 0 {
		for _, c := range t.GetTlsCertificates() {
			common.TlsCertificates = append(common.TlsCertificates, fileCertificate(c.GetServerCertificate(), c.GetPrivateKey()))
		}
		if t.GetServerCertificate() != "" {
			common.TlsCertificates = append(common.TlsCertificates, fileCertificate(t.GetServerCertificate(), t.GetPrivateKey()))
		}
	}
	if mode == networkingv1alpha3.ServerTLSSettings_SIMPLE {
		return &tlsv3.DownstreamTlsContext{CommonTlsContext: common, RequireClientCertificate: wrapperspb.Bool(false)}, problems
	}
	// MUTUAL and OPTIONAL_MUTUAL verify a presented client certificate; only MUTUAL requires one.
	caName := ""
	switch {
	case t.GetCaCertCredentialName() != "":
		caName = credentialResource(t.GetCaCertCredentialName()) + caSuffix
	case len(creds) > 0:
		caName = credentialResource(creds[0]) + caSuffix
	}
	if caName != "" {
		if _, reason := credentialCA(in, caName); reason != "" {
			problems = append(problems, model.ProblemFor(&s.gw.Meta, model.SeverityError, field,
				"client CA %s: %s; TLS handshakes using it fail until it is fixed", caName, reason))
		}
		common.ValidationContextType = sdsValidation(caName, static)
	} else {
		static.TrustedCa = fileSource(t.GetCaCertificates())
		if t.GetCaCrl() != "" {
			static.Crl = fileSource(t.GetCaCrl())
		}
		common.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: static}
	}
	require := mode == networkingv1alpha3.ServerTLSSettings_MUTUAL
	return &tlsv3.DownstreamTlsContext{CommonTlsContext: common, RequireClientCertificate: wrapperspb.Bool(require)}, problems
}

// serverTLSParams maps min/max protocol versions one-to-one (TLS_AUTO leaves Envoy's default)
// and keeps the cipher suites Envoy accepts, dropping others and repeats with a warning, as
// Istio does (an unknown suite would make Envoy reject the whole listener).
func serverTLSParams(gw *model.Gateway, field string, t *networkingv1alpha3.ServerTLSSettings) (*tlsv3.TlsParameters, []model.Problem) {
	p := &tlsv3.TlsParameters{
		TlsMinimumProtocolVersion: tlsv3.TlsParameters_TlsProtocol(t.GetMinProtocolVersion()),
		TlsMaximumProtocolVersion: tlsv3.TlsParameters_TlsProtocol(t.GetMaxProtocolVersion()),
	}
	var problems []model.Problem
	for i, cs := range t.GetCipherSuites() {
		switch {
		case !validCipherSuite(cs):
			problems = append(problems, model.ProblemFor(&gw.Meta, model.SeverityWarning, fmt.Sprintf("%s.cipherSuites[%d]", field, i),
				"unsupported cipher suite %q ignored", cs))
		case slices.Contains(p.CipherSuites, cs):
			problems = append(problems, model.ProblemFor(&gw.Meta, model.SeverityWarning, fmt.Sprintf("%s.cipherSuites[%d]", field, i),
				"duplicate cipher suite %q ignored", cs))
		default:
			p.CipherSuites = append(p.CipherSuites, cs)
		}
	}
	if p.TlsMinimumProtocolVersion == 0 && p.TlsMaximumProtocolVersion == 0 && len(p.CipherSuites) == 0 {
		return nil, problems
	}
	return p, problems
}

// validCipherSuite is Istio's check (BoringSSL names without PSK); "ALL" and expressions
// starting with an operator such as "-" or "[" are passed through, an empty name is not.
func validCipherSuite(cs string) bool {
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

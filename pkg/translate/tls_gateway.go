package translate

import (
	"fmt"
	"slices"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
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
	var defaults model.TLSConfig
	if m := t.GetMode(); m == networkingv1alpha3.ServerTLSSettings_SIMPLE || m == networkingv1alpha3.ServerTLSSettings_MUTUAL ||
		m == networkingv1alpha3.ServerTLSSettings_OPTIONAL_MUTUAL {
		defaults = in.Store.Mesh.TLSDefaults
	}
	params, problems := serverTLSParams(defaults, s.gw, field, t)
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
		name := model.CredentialSDSName(cn)
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
	// caCertCredentialName replaces the first credential's CA (model.CredentialCASDSName; with
	// file certificates Istio ignores it, and validation warns).
	caName := ""
	if len(creds) > 0 {
		caName = model.CredentialCASDSName(t.GetCaCertCredentialName(), creds[0])
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

// serverTLSParams starts from MeshConfig tlsDefaults (given only for the modes Istio applies
// them to), then the server's own settings win: min/max protocol versions map one-to-one
// (TLS_AUTO leaves the default), and the cipher suites Envoy accepts replace the defaults'.
// Other suites and repeats are dropped with a warning, as Istio does (an unknown suite would
// make Envoy reject the whole listener).
func serverTLSParams(defaults model.TLSConfig, gw *model.Gateway, field string, t *networkingv1alpha3.ServerTLSSettings) (*tlsv3.TlsParameters, []model.Problem) {
	p := gatewayTLSDefaults(defaults)
	if v := t.GetMinProtocolVersion(); v != networkingv1alpha3.ServerTLSSettings_TLS_AUTO {
		p.TlsMinimumProtocolVersion = tlsv3.TlsParameters_TlsProtocol(v)
	}
	p.TlsMaximumProtocolVersion = tlsv3.TlsParameters_TlsProtocol(t.GetMaxProtocolVersion())
	var suites []string
	var problems []model.Problem
	for i, cs := range t.GetCipherSuites() {
		switch {
		case !model.ValidCipherSuite(cs):
			problems = append(problems, model.ProblemFor(&gw.Meta, model.SeverityWarning, fmt.Sprintf("%s.cipherSuites[%d]", field, i),
				"unsupported cipher suite %q ignored", cs))
		case slices.Contains(suites, cs):
			problems = append(problems, model.ProblemFor(&gw.Meta, model.SeverityWarning, fmt.Sprintf("%s.cipherSuites[%d]", field, i),
				"duplicate cipher suite %q ignored", cs))
		default:
			suites = append(suites, cs)
		}
	}
	if len(suites) > 0 {
		p.CipherSuites = suites
	}
	if proto.Equal(p, &tlsv3.TlsParameters{}) {
		return nil, problems
	}
	return p, problems
}

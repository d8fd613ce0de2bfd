package translate

import (
	"fmt"
	"path"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// upstreamTransportSocket decides a cluster's transport security (SEMANTICS.md §6): the
// DestinationRule's tls for the port and subset if it has one, else automatic mTLS where the
// destination may take it, else plaintext.
func upstreamTransportSocket(in Inputs, k clusterKey) (clusterTLS, []model.Problem) {
	dr := destinationRuleFor(in, k.svc)
	if t, field := clientTLSFor(dr, k); t != nil {
		switch t.GetMode() {
		case networkingv1alpha3.ClientTLSSettings_DISABLE:
			return clusterTLS{}, nil // also turns automatic mTLS off
		case networkingv1alpha3.ClientTLSSettings_ISTIO_MUTUAL:
			sans := t.GetSubjectAltNames()
			if len(sans) == 0 {
				sans = serviceIdentities(in, k.svc)
			}
			return clusterTLS{socket: tlsTransportSocket(istioMutualUpstream(k, sans, t.GetSni()))}, nil
		default:
			return simpleUpstream(in, k, drField{dr: dr, field: field, tls: t})
		}
	}
	if k.svc.Resolution == networkingv1alpha3.ServiceEntry_NONE || !autoMTLSApplies(in, k.svc) {
		return clusterTLS{}, nil
	}
	return autoMTLS(in, k), nil
}

// clientTLSFor picks the DestinationRule tls block for a cluster; the most specific wins
// whole: subset portLevelSettings[port] > subset tls > portLevelSettings[port] > tls.
func clientTLSFor(dr *model.DestinationRule, k clusterKey) (*networkingv1alpha3.ClientTLSSettings, string) {
	if dr == nil {
		return nil, ""
	}
	type level struct {
		tp    *networkingv1alpha3.TrafficPolicy
		field string
	}
	var levels []level
	for i, s := range dr.Spec.GetSubsets() {
		if k.subset != "" && s.GetName() == k.subset {
			levels = append(levels, level{s.GetTrafficPolicy(), fmt.Sprintf("spec.subsets[%d].trafficPolicy", i)})
		}
	}
	levels = append(levels, level{dr.Spec.GetTrafficPolicy(), "spec.trafficPolicy"})
	for _, l := range levels {
		for j, pl := range l.tp.GetPortLevelSettings() {
			if pl.GetPort().GetNumber() == k.port.GetNumber() && pl.GetTls() != nil {
				return pl.GetTls(), fmt.Sprintf("%s.portLevelSettings[%d].tls", l.field, j)
			}
		}
		if t := l.tp.GetTls(); t != nil {
			return t, l.field + ".tls"
		}
	}
	return nil, ""
}

// istioMutualUpstream is the mesh mTLS client context: the workload certificate, the mesh
// roots, the expected server identities, SNI the cluster name (what Istio servers route
// passthrough traffic on) and ALPN "istio" marking the connection as mesh traffic.
func istioMutualUpstream(k clusterKey, sans []string, sni string) *tlsv3.UpstreamTlsContext {
	alpn := []string{"istio"}
	if protocolOf(k.port) == protocolHTTP2 {
		alpn = append(alpn, "h2")
	}
	if sni == "" {
		sni = k.name()
	}
	return &tlsv3.UpstreamTlsContext{CommonTlsContext: meshCommonTLS(exactSANs(sans), alpn), Sni: sni}
}

// drField is one DestinationRule tls block and where it is, for problems.
type drField struct {
	dr    *model.DestinationRule
	field string
	tls   *networkingv1alpha3.ClientTLSSettings
}

// simpleUpstream builds SIMPLE and MUTUAL origination (SEMANTICS.md §6.2, §6.3).
func simpleUpstream(in Inputs, k clusterKey, d drField) (clusterTLS, []model.Problem) {
	t := d.tls
	sans := t.GetSubjectAltNames()
	if len(sans) == 0 {
		sans = serviceEntrySANs(in, k.svc)
	}
	common := &tlsv3.CommonTlsContext{TlsParams: &tlsv3.TlsParameters{
		TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2,
		TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3,
	}}
	applyUpstreamTLSDefaults(common.TlsParams, in.Store.Mesh.TLSDefaults)
	if protocolOf(k.port) == protocolHTTP2 {
		common.AlpnProtocols = []string{"h2"}
	}
	var problems []model.Problem
	certName, caName := "", ""
	if cn := t.GetCredentialName(); cn != "" {
		certName, caName, problems = upstreamCredential(in, d)
	}
	mutual := t.GetMode() == networkingv1alpha3.ClientTLSSettings_MUTUAL
	switch {
	case mutual && certName != "":
		common.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{sdsSecret(certName)}
	case mutual:
		common.TlsCertificates = []*tlsv3.TlsCertificate{fileCertificate(t.GetClientCertificate(), t.GetPrivateKey())}
	}
	skip := t.GetInsecureSkipVerify().GetValue()
	static := &tlsv3.CertificateValidationContext{MatchTypedSubjectAltNames: exactSANs(sans)}
	if t.GetCaCrl() != "" {
		static.Crl = fileSource(t.GetCaCrl())
	}
	switch {
	case skip:
		// insecureSkipVerify: an empty validation context verifies nothing, as asked.
		common.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{}}
	case caName != "":
		common.ValidationContextType = sdsValidation(caName, static)
	default:
		static.TrustedCa = fileSource(systemRootsFile)
		if ca := t.GetCaCertificates(); ca != "" {
			static.TrustedCa = fileSource(ca)
		}
		common.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: static}
	}
	res := clusterTLS{socket: tlsTransportSocket(&tlsv3.UpstreamTlsContext{CommonTlsContext: common, Sni: t.GetSni()})}
	if t.GetSni() == "" && protocolOf(k.port).isHTTP() {
		// Without a fixed SNI Envoy sends each request's host, and checks the server
		// certificate against it unless SANs were given or verification is off.
		res.autoSNI = true
		res.autoSAN = len(sans) == 0 && !skip
	}
	return res, problems
}

// upstreamCredential resolves a DestinationRule credentialName to SDS names. On sidecars it
// needs a workloadSelector (the secret lives in the workload's namespace); without one Istio
// silently sends plaintext, we name a secret nobody serves so connections fail (D7).
func upstreamCredential(in Inputs, d drField) (string, string, []model.Problem) {
	cn := d.tls.GetCredentialName()
	field := d.field + ".credentialName"
	if builtin(cn) {
		return sdsWorkloadCert, sdsRootCA, nil
	}
	if in.Proxy.Role == model.RoleSidecar && len(d.dr.Spec.GetWorkloadSelector().GetMatchLabels()) == 0 {
		return "invalid://" + cn, "invalid://" + cn + caSuffix, []model.Problem{model.ProblemFor(&d.dr.Meta, model.SeverityError, field,
			"credentialName on a sidecar needs spec.workloadSelector (the secret is read from the workload's namespace); "+
				"connections to %s fail until it is set", d.dr.Spec.GetHost())}
	}
	name := model.CredentialSDSName(cn)
	needCA := !d.tls.GetInsecureSkipVerify().GetValue()
	return name, name + caSuffix, credentialProblems(in, &d.dr.Meta, field, name, needCA)
}

// fileCertificate reads a certificate and key from the proxy's filesystem, reloading them
// when their directory changes (rotation by file replacement).
func fileCertificate(cert, key string) *tlsv3.TlsCertificate {
	c := &tlsv3.TlsCertificate{CertificateChain: fileSource(cert), PrivateKey: fileSource(key)}
	if dir := path.Dir(cert); cert != "" && dir == path.Dir(key) {
		c.WatchedDirectory = &corev3.WatchedDirectory{Path: dir}
	}
	return c
}

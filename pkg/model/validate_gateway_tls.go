package model

import (
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
)

// validateServerTLS applies Istio's server TLS checks (validateTLSOptions; SEMANTICS.md §7.2).
// Cipher suites are checked where they are translated, which drops unknown names with a warning.
func validateServerTLS(ps *problems, field string, t *networkingv1alpha3.ServerTLSSettings) {
	if t == nil {
		return
	}
	mode := t.GetMode()
	validateCACertCredential(ps, field, t)
	switch mode {
	case networkingv1alpha3.ServerTLSSettings_ISTIO_MUTUAL:
		validateIstioMutualServer(ps, field, t)
		return
	case networkingv1alpha3.ServerTLSSettings_PASSTHROUGH, networkingv1alpha3.ServerTLSSettings_AUTO_PASSTHROUGH:
		if hasServerCertFields(t) || t.GetCaCrl() != "" {
			ps.warnf(field, "%v mode does not use certificates, they will be ignored", mode)
		}
	}
	sources := 0
	for _, set := range []bool{
		t.GetServerCertificate() != "" && t.GetPrivateKey() != "", t.GetCredentialName() != "",
		len(t.GetCredentialNames()) > 0, len(t.GetTlsCertificates()) > 0,
	} {
		if set {
			sources++
		}
	}
	if sources > 1 {
		ps.errorf(field, "only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified")
	}
	terminates := mode == networkingv1alpha3.ServerTLSSettings_SIMPLE || mode == networkingv1alpha3.ServerTLSSettings_MUTUAL ||
		mode == networkingv1alpha3.ServerTLSSettings_OPTIONAL_MUTUAL
	if terminates && (t.GetCredentialName() != "" || len(t.GetCredentialNames()) > 0) {
		return // certificates come from the credential (SDS); no file fields are needed
	}
	if terminates {
		validateServerFileCerts(ps, field, t)
	}
	if t.GetCaCrl() != "" && t.GetCredentialName() != "" {
		ps.errorf(field+".caCrl", "CRL is not supported with credentialName. CRL has to be specified in the credential")
	}
	if t.GetCaCrl() != "" && mode == networkingv1alpha3.ServerTLSSettings_SIMPLE {
		ps.errorf(field+".caCrl", "CRL is not supported with SIMPLE TLS")
	}
}

func hasServerCertFields(t *networkingv1alpha3.ServerTLSSettings) bool {
	return t.GetServerCertificate() != "" || t.GetPrivateKey() != "" || t.GetCaCertificates() != "" ||
		len(t.GetTlsCertificates()) > 0 || t.GetCredentialName() != "" || len(t.GetCredentialNames()) > 0
}

// validateServerFileCerts checks SIMPLE/MUTUAL servers that take their certificates from files.
func validateServerFileCerts(ps *problems, field string, t *networkingv1alpha3.ServerTLSSettings) {
	prefix := "SIMPLE TLS"
	if t.GetMode() != networkingv1alpha3.ServerTLSSettings_SIMPLE {
		prefix = "MUTUAL TLS"
		if t.GetCaCertificates() == "" {
			ps.errorf(field+".caCertificates", "%s requires a client CA bundle", prefix)
		}
	}
	certs := t.GetTlsCertificates()
	certField := field + ".tlsCertificates"
	if len(certs) > 2 {
		ps.warnf(certField, "%s can support up to 2 server certificates", prefix)
	}
	if len(certs) == 0 {
		certs = []*networkingv1alpha3.ServerTLSSettings_TLSCertificate{{
			ServerCertificate: t.GetServerCertificate(), PrivateKey: t.GetPrivateKey(),
		}}
		certField = ""
	}
	for i, c := range certs {
		at := field
		if certField != "" {
			at = fieldPath(certField, i)
		}
		if c.GetServerCertificate() == "" {
			ps.errorf(at+".serverCertificate", "%s requires a server certificate", prefix)
		}
		if c.GetPrivateKey() == "" {
			ps.errorf(at+".privateKey", "%s requires a private key", prefix)
		}
	}
}

func validateIstioMutualServer(ps *problems, field string, t *networkingv1alpha3.ServerTLSSettings) {
	for _, f := range []struct {
		set         bool
		name, label string
	}{
		{t.GetServerCertificate() != "", "serverCertificate", "server certificate"},
		{t.GetPrivateKey() != "", "privateKey", "private key"},
		{t.GetCaCertificates() != "", "caCertificates", "CA bundle"},
		{len(t.GetTlsCertificates()) > 0, "tlsCertificates", "tlsCertificates"},
		{t.GetCredentialName() != "", "credentialName", "credentialName"},
		{len(t.GetCredentialNames()) > 0, "credentialNames", "credentialNames"},
	} {
		if f.set {
			ps.errorf(field+"."+f.name, "ISTIO_MUTUAL TLS cannot have associated %s", f.label)
		}
	}
}

// validateCACertCredential warns where caCertCredentialName is ignored. Istio's validation has
// no rule for the field (pkg/config/validation validateTLSOptions), but its translation reads
// it only for MUTUAL and OPTIONAL_MUTUAL servers whose certificate comes from credentialName(s)
// (pilot/pkg/security/model ApplyCredentialSDSToServerCommonTLSContext): elsewhere a client CA
// the author meant to enforce would be silently unused.
func validateCACertCredential(ps *problems, field string, t *networkingv1alpha3.ServerTLSSettings) {
	if t.GetCaCertCredentialName() == "" {
		return
	}
	f := field + ".caCertCredentialName"
	switch mode := t.GetMode(); {
	case mode != networkingv1alpha3.ServerTLSSettings_MUTUAL && mode != networkingv1alpha3.ServerTLSSettings_OPTIONAL_MUTUAL:
		ps.warnf(f, "caCertCredentialName is only used by MUTUAL and OPTIONAL_MUTUAL TLS; ignored in %v mode", mode)
	case t.GetCredentialName() == "" && len(t.GetCredentialNames()) == 0:
		ps.warnf(f, "caCertCredentialName is only used with credentialName or credentialNames; ignored, clients are verified with caCertificates")
	}
}

package model

import (
	"strings"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
)

// validateDestinationRule applies Istio's DestinationRule checks that matter here: the host,
// subset names, and every client TLS block (SEMANTICS.md §6, Istio agent.ValidateTLS).
func validateDestinationRule(dr *DestinationRule) []Problem {
	ps := &problems{meta: &dr.Meta}
	ps.check("spec.host", checkWildcardDomain(dr.Spec.GetHost()))
	validateTrafficPolicyTLS(ps, "spec.trafficPolicy", dr.Namespace, dr.Spec.GetTrafficPolicy())
	seen := map[string]bool{}
	for i, s := range dr.Spec.GetSubsets() {
		field := fieldPath("spec.subsets", i)
		switch {
		case s.GetName() == "":
			ps.errorf(field+".name", "subset name cannot be empty")
		case !isDNSLabel(s.GetName()):
			ps.errorf(field+".name", "subset name is invalid: %s", s.GetName())
		case seen[s.GetName()]:
			ps.errorf(field+".name", "duplicate subset names: %s", s.GetName())
		}
		seen[s.GetName()] = true
		validateTrafficPolicyTLS(ps, field+".trafficPolicy", dr.Namespace, s.GetTrafficPolicy())
	}
	checkSelectorLabels(ps, "spec.workloadSelector.matchLabels", dr.Spec.GetWorkloadSelector().GetMatchLabels())
	return ps.list
}

func validateTrafficPolicyTLS(ps *problems, field, namespace string, tp *networkingv1alpha3.TrafficPolicy) {
	if tp == nil {
		return
	}
	validateClientTLS(ps, field+".tls", namespace, tp.GetTls())
	for i, pl := range tp.GetPortLevelSettings() {
		at := fieldPath(field+".portLevelSettings", i)
		if pl.GetPort() == nil {
			ps.errorf(at+".port", "portTrafficPolicy must have valid port")
		}
		validateClientTLS(ps, at+".tls", namespace, pl.GetTls())
	}
}

// validateClientTLS checks one ClientTLSSettings block with Istio's messages.
func validateClientTLS(ps *problems, field, namespace string, t *networkingv1alpha3.ClientTLSSettings) {
	if t == nil {
		return
	}
	mode := t.GetMode()
	if cn := t.GetCredentialName(); strings.HasPrefix(cn, "configmap://") {
		ns, _, ok := strings.Cut(strings.TrimPrefix(cn, "configmap://"), "/")
		if ok && ns != namespace {
			ps.errorf(field+".credentialName", "invalid configmap:// credentialName: namespace must match the configuration namespace %q", namespace)
		}
	}
	if t.GetInsecureSkipVerify().GetValue() {
		switch {
		case mode == networkingv1alpha3.ClientTLSSettings_SIMPLE &&
			(t.GetCaCertificates() != "" || t.GetCredentialName() != "" || t.GetSubjectAltNames() != nil):
			ps.errorf(field+".insecureSkipVerify", "cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true")
		case mode == networkingv1alpha3.ClientTLSSettings_MUTUAL &&
			(t.GetCaCertificates() != "" || t.GetSubjectAltNames() != nil):
			ps.errorf(field+".insecureSkipVerify", "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true")
		}
	}
	fileFields := t.GetClientCertificate() != "" || t.GetCaCertificates() != "" || t.GetPrivateKey() != "" || t.GetCaCrl() != ""
	switch {
	case mode == networkingv1alpha3.ClientTLSSettings_ISTIO_MUTUAL && (fileFields || t.GetCredentialName() != ""):
		// Istio silently ignores these; the mesh certificate is used, so say so.
		ps.errorf(field, "ISTIO_MUTUAL TLS cannot have associated client certificate, private key, CA certificate, CA CRL or credentialName")
	case (mode == networkingv1alpha3.ClientTLSSettings_SIMPLE || mode == networkingv1alpha3.ClientTLSSettings_MUTUAL) && t.GetCredentialName() != "":
		if fileFields {
			ps.errorf(field, "cannot specify client certificates or CA certificate or CA CRL If credentialName is set")
		}
	case mode == networkingv1alpha3.ClientTLSSettings_MUTUAL:
		if t.GetClientCertificate() == "" {
			ps.errorf(field+".clientCertificate", "client certificate required for mutual tls")
		}
		if t.GetPrivateKey() == "" {
			ps.errorf(field+".privateKey", "private key required for mutual tls")
		}
	}
}

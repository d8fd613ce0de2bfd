package kube

import (
	"slices"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// secretKey names one Secret.
type secretKey struct{ namespace, name string }

// referencedSecrets is the set of Secrets a credentialName of the Gateways and
// DestinationRules may be read from. Translation reads a bare name from the proxy's namespace
// (SEMANTICS.md §6.3, §7.3), which the objects do not name, so the namespaces are inferred:
//   - Gateway: its own namespace and the namespace of every Pod its selector matches (the
//     gateway proxies; the usual layout is a Gateway next to the application and the
//     credential next to the ingress gateway Pods, e.g. in istio-system).
//   - DestinationRule with a workloadSelector: its own namespace (such a rule applies only to
//     proxies there).
//   - DestinationRule without one: its own namespace and every gateway namespace above; on
//     sidecars such a credential is refused by translation, only gateways (egress) read it.
//
// "kubernetes://ns/name" names its namespace explicitly; other schemes (builtin://) are no
// Secret. When allowed is not empty (Options.SecretNamespaces) only Secrets in those
// namespaces are returned.
func referencedSecrets(gws []*networkingv1.Gateway, drs []*networkingv1.DestinationRule, pods []*corev1.Pod, allowed []string) map[secretKey]bool {
	c := refCollector{out: map[secretKey]bool{}}
	if len(allowed) > 0 {
		c.allowed = map[string]bool{}
		for _, ns := range allowed {
			c.allowed[ns] = true
		}
	}
	// Matching selectors against every Pod is the costly part: skip Gateways whose
	// namespaces matter neither for their own credentials nor for a DestinationRule's.
	drNeedsGateways := slices.ContainsFunc(drs, func(dr *networkingv1.DestinationRule) bool {
		return len(dr.Spec.GetWorkloadSelector().GetMatchLabels()) == 0 &&
			slices.ContainsFunc(destinationRuleTLS(&dr.Spec), func(t *networkingv1alpha3.ClientTLSSettings) bool {
				return t.GetCredentialName() != ""
			})
	})
	gatewayNamespaces := map[string]bool{}
	for _, gw := range gws {
		if !drNeedsGateways && !slices.ContainsFunc(gw.Spec.GetServers(), hasServerCredential) {
			continue
		}
		nss := proxyNamespaces(gw, pods)
		for ns := range nss {
			gatewayNamespaces[ns] = true
		}
		for _, s := range gw.Spec.GetServers() {
			c.server(s.GetTls(), nss)
		}
	}
	for _, dr := range drs {
		nss := map[string]bool{dr.Namespace: true}
		if len(dr.Spec.GetWorkloadSelector().GetMatchLabels()) == 0 {
			for ns := range gatewayNamespaces {
				nss[ns] = true
			}
		}
		for _, t := range destinationRuleTLS(&dr.Spec) {
			c.client(t, nss)
		}
	}
	return c.out
}

func hasServerCredential(s *networkingv1alpha3.Server) bool {
	t := s.GetTls()
	return t.GetCredentialName() != "" || len(t.GetCredentialNames()) > 0 || t.GetCaCertCredentialName() != ""
}

// proxyNamespaces returns the Gateway's namespace and those of the Pods it selects. An empty
// selector selects no proxy in translation, so no Pod is matched against it.
func proxyNamespaces(gw *networkingv1.Gateway, pods []*corev1.Pod) map[string]bool {
	nss := map[string]bool{gw.Namespace: true}
	sel := gw.Spec.GetSelector()
	if len(sel) == 0 {
		return nss
	}
	for _, p := range pods {
		if !nss[p.Namespace] && model.SelectorMatches(sel, p.Labels) {
			nss[p.Namespace] = true
		}
	}
	return nss
}

// destinationRuleTLS lists every TLS block of a DestinationRule: the top-level policy, its
// port-level settings, and the same for each subset.
func destinationRuleTLS(dr *networkingv1alpha3.DestinationRule) []*networkingv1alpha3.ClientTLSSettings {
	var out []*networkingv1alpha3.ClientTLSSettings
	add := func(p *networkingv1alpha3.TrafficPolicy) {
		if t := p.GetTls(); t != nil {
			out = append(out, t)
		}
		for _, pl := range p.GetPortLevelSettings() {
			if t := pl.GetTls(); t != nil {
				out = append(out, t)
			}
		}
	}
	add(dr.GetTrafficPolicy())
	for _, s := range dr.GetSubsets() {
		add(s.GetTrafficPolicy())
	}
	return out
}

// refCollector accumulates referenced Secrets.
type refCollector struct {
	out     map[secretKey]bool
	allowed map[string]bool // nil: every namespace
}

// server adds a Gateway server's credentials. Modes that terminate no TLS with a credential
// (passthrough, ISTIO_MUTUAL) read none; only MUTUAL and OPTIONAL_MUTUAL read a CA, and only
// with a credential (with file certificates caCertCredentialName is ignored).
func (c *refCollector) server(t *networkingv1alpha3.ServerTLSSettings, nss map[string]bool) {
	switch t.GetMode() {
	case networkingv1alpha3.ServerTLSSettings_SIMPLE, networkingv1alpha3.ServerTLSSettings_MUTUAL,
		networkingv1alpha3.ServerTLSSettings_OPTIONAL_MUTUAL:
	default:
		return
	}
	creds := t.GetCredentialNames()
	if cn := t.GetCredentialName(); cn != "" {
		creds = []string{cn}
	}
	for _, cn := range creds {
		c.add(model.CredentialSDSName(cn), false, nss)
	}
	if t.GetMode() == networkingv1alpha3.ServerTLSSettings_SIMPLE || len(creds) == 0 {
		return
	}
	c.add(model.CredentialCASDSName(t.GetCaCertCredentialName(), creds[0]), true, nss)
}

// client adds a DestinationRule TLS block's credential; its CA is read unless verification
// is off.
func (c *refCollector) client(t *networkingv1alpha3.ClientTLSSettings, nss map[string]bool) {
	switch t.GetMode() {
	case networkingv1alpha3.ClientTLSSettings_SIMPLE, networkingv1alpha3.ClientTLSSettings_MUTUAL:
	default:
		return
	}
	cn := t.GetCredentialName()
	if cn == "" {
		return
	}
	c.add(model.CredentialSDSName(cn), false, nss)
	if !t.GetInsecureSkipVerify().GetValue() {
		c.add(model.CredentialCASDSName("", cn), true, nss)
	}
}

// add records the Secrets translation may read for an SDS name (model.CredentialSecrets, the
// rule translation itself follows) in each namespace, or in the one the name gives.
func (c *refCollector) add(sdsName string, ca bool, nss map[string]bool) {
	for _, ref := range model.CredentialSecrets(sdsName, ca) {
		in := nss
		if ref.Namespace != "" {
			in = map[string]bool{ref.Namespace: true}
		}
		for ns := range in {
			if c.allowed == nil || c.allowed[ns] {
				c.out[secretKey{ns, ref.Name}] = true
			}
		}
	}
}

package kube

import (
	"slices"
	"strings"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// secretKey names one Secret.
type secretKey struct{ namespace, name string }

// caSecretSuffix names the companion Secret holding a credential's CA bundle (SEMANTICS.md
// §7.3): "<name>-cacert" if it exists, else "<name>" itself.
const caSecretSuffix = "-cacert"

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
// (passthrough, ISTIO_MUTUAL) read none; only MUTUAL and OPTIONAL_MUTUAL read a CA.
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
		c.add(cn, false, nss)
	}
	if t.GetMode() == networkingv1alpha3.ServerTLSSettings_SIMPLE {
		return
	}
	switch {
	case t.GetCaCertCredentialName() != "":
		c.add(t.GetCaCertCredentialName(), true, nss)
	case len(creds) > 0:
		c.add(creds[0], true, nss)
	}
}

// client adds a DestinationRule TLS block's credential; its CA is read unless verification
// is off.
func (c *refCollector) client(t *networkingv1alpha3.ClientTLSSettings, nss map[string]bool) {
	switch t.GetMode() {
	case networkingv1alpha3.ClientTLSSettings_SIMPLE, networkingv1alpha3.ClientTLSSettings_MUTUAL:
		c.add(t.GetCredentialName(), !t.GetInsecureSkipVerify().GetValue(), nss)
	}
}

// add records the Secret a credential name reads in each namespace, and with withCA its
// "-cacert" companion.
func (c *refCollector) add(cn string, withCA bool, nss map[string]bool) {
	ns, name, ok := parseCredential(cn)
	if !ok {
		return
	}
	if ns != "" {
		nss = map[string]bool{ns: true}
	}
	for ns := range nss {
		if c.allowed != nil && !c.allowed[ns] {
			continue
		}
		c.out[secretKey{ns, name}] = true
		if withCA {
			c.out[secretKey{ns, name + caSecretSuffix}] = true
		}
	}
}

// parseCredential splits "name", "kubernetes://name" or "kubernetes://ns/name". ok is false
// for an empty name and for other schemes, which no Kubernetes Secret serves.
func parseCredential(cn string) (ns, name string, ok bool) {
	if strings.Contains(cn, "://") {
		var found bool
		if cn, found = strings.CutPrefix(cn, "kubernetes://"); !found {
			return "", "", false
		}
	}
	if n, nm, found := strings.Cut(cn, "/"); found {
		ns, cn = n, nm
	}
	return ns, cn, cn != ""
}

package kube

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/wrapperspb"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	typev1beta1 "istio.io/api/type/v1beta1"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

func gatewayWith(ns string, sel map[string]string, servers ...*networkingv1alpha3.ServerTLSSettings) *networkingv1.Gateway {
	gw := &networkingv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"}}
	gw.Spec.Selector = sel
	for _, t := range servers {
		gw.Spec.Servers = append(gw.Spec.Servers, &networkingv1alpha3.Server{
			Port: &networkingv1alpha3.Port{Number: 443, Name: "https", Protocol: "HTTPS"}, Hosts: []string{"*"}, Tls: t})
	}
	return gw
}

func ruleWith(ns string, selector bool, spec *networkingv1alpha3.DestinationRule) *networkingv1.DestinationRule {
	dr := &networkingv1.DestinationRule{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dr"}}
	dr.Spec.Host = spec.GetHost()
	dr.Spec.TrafficPolicy, dr.Spec.Subsets = spec.GetTrafficPolicy(), spec.GetSubsets()
	if selector {
		dr.Spec.WorkloadSelector = &typev1beta1.WorkloadSelector{MatchLabels: map[string]string{"app": "client"}}
	}
	return dr
}

func pod(ns string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "p", Labels: labels}}
}

func clientTLS(mode networkingv1alpha3.ClientTLSSettings_TLSmode, cn string) *networkingv1alpha3.ClientTLSSettings {
	return &networkingv1alpha3.ClientTLSSettings{Mode: mode, CredentialName: cn}
}

// keys renders a reference set as sorted "ns/name" strings.
func keys(m map[secretKey]bool) []string {
	var out []string
	for k, ok := range m {
		if !ok {
			continue
		}
		out = append(out, k.namespace+"/"+k.name)
	}
	slices.Sort(out)
	return out
}

func TestReferencedSecrets(t *testing.T) {
	t.Parallel()
	const (
		simple   = networkingv1alpha3.ServerTLSSettings_SIMPLE
		mutual   = networkingv1alpha3.ServerTLSSettings_MUTUAL
		optional = networkingv1alpha3.ServerTLSSettings_OPTIONAL_MUTUAL
	)
	ingress := map[string]string{"istio": "ingressgateway"}
	ingressPod := pod("istio-system", ingress)
	otherPod := pod("apps", map[string]string{"app": "web"})
	for name, tc := range map[string]struct {
		gws     []*networkingv1.Gateway
		drs     []*networkingv1.DestinationRule
		pods    []*corev1.Pod
		allowed []string
		want    []string
	}{
		"gateway SIMPLE: the credential only, in the Gateway's namespace": {
			gws:  []*networkingv1.Gateway{gatewayWith("apps", ingress, &networkingv1alpha3.ServerTLSSettings{Mode: simple, CredentialName: "web"})},
			want: []string{"apps/web"},
		},
		"gateway MUTUAL: the cacert companion too": {
			gws:  []*networkingv1.Gateway{gatewayWith("apps", ingress, &networkingv1alpha3.ServerTLSSettings{Mode: mutual, CredentialName: "web"})},
			want: []string{"apps/web", "apps/web-cacert"},
		},
		"gateway namespace and the namespaces of the pods it selects": {
			gws:  []*networkingv1.Gateway{gatewayWith("apps", ingress, &networkingv1alpha3.ServerTLSSettings{Mode: simple, CredentialName: "web"})},
			pods: []*corev1.Pod{ingressPod, otherPod},
			want: []string{"apps/web", "istio-system/web"},
		},
		"an empty selector matches no pod": {
			gws:  []*networkingv1.Gateway{gatewayWith("apps", nil, &networkingv1alpha3.ServerTLSSettings{Mode: simple, CredentialName: "web"})},
			pods: []*corev1.Pod{ingressPod, otherPod},
			want: []string{"apps/web"},
		},
		"credentialNames, CA from the first; caCertCredentialName overrides": {
			gws: []*networkingv1.Gateway{gatewayWith("apps", ingress,
				&networkingv1alpha3.ServerTLSSettings{Mode: optional, CredentialNames: []string{"rsa", "ecdsa"}},
				&networkingv1alpha3.ServerTLSSettings{Mode: mutual, CredentialName: "x", CaCertCredentialName: "clients"})},
			want: []string{"apps/clients", "apps/clients-cacert", "apps/ecdsa", "apps/rsa", "apps/rsa-cacert", "apps/x"},
		},
		"caCertCredentialName naming a CA resource is read as written: N-cacert, else N": {
			gws: []*networkingv1.Gateway{gatewayWith("apps", ingress,
				&networkingv1alpha3.ServerTLSSettings{Mode: mutual, CredentialName: "x", CaCertCredentialName: "clients-cacert"},
				&networkingv1alpha3.ServerTLSSettings{Mode: optional, CredentialName: "y", CaCertCredentialName: "kubernetes://other/ca-cacert"})},
			want: []string{"apps/clients", "apps/clients-cacert", "apps/x", "apps/y", "other/ca", "other/ca-cacert"},
		},
		"a credentialName ending in -cacert: its CA is N-cacert-cacert, else N": {
			gws:  []*networkingv1.Gateway{gatewayWith("apps", ingress, &networkingv1alpha3.ServerTLSSettings{Mode: mutual, CredentialName: "w-cacert"})},
			want: []string{"apps/w-cacert", "apps/w-cacert-cacert"},
		},
		"caCertCredentialName without a credential (file certificates) reads no Secret": {
			gws: []*networkingv1.Gateway{gatewayWith("apps", ingress,
				&networkingv1alpha3.ServerTLSSettings{Mode: mutual, ServerCertificate: "/c.pem", PrivateKey: "/k.pem", CaCertCredentialName: "clients"})},
		},
		"schemes: kubernetes:// bare and with namespace; builtin:// and others are no Secret": {
			gws: []*networkingv1.Gateway{gatewayWith("apps", ingress,
				&networkingv1alpha3.ServerTLSSettings{Mode: simple, CredentialName: "kubernetes://a"},
				&networkingv1alpha3.ServerTLSSettings{Mode: simple, CredentialName: "kubernetes://other/b"},
				&networkingv1alpha3.ServerTLSSettings{Mode: simple, CredentialName: "builtin://"},
				&networkingv1alpha3.ServerTLSSettings{Mode: simple, CredentialName: "kubernetes-gateway://apps/c"})},
			want: []string{"apps/a", "other/b"},
		},
		"passthrough and ISTIO_MUTUAL servers read no credential": {
			gws: []*networkingv1.Gateway{gatewayWith("apps", ingress,
				&networkingv1alpha3.ServerTLSSettings{Mode: networkingv1alpha3.ServerTLSSettings_PASSTHROUGH, CredentialName: "a"},
				&networkingv1alpha3.ServerTLSSettings{Mode: networkingv1alpha3.ServerTLSSettings_ISTIO_MUTUAL, CredentialName: "b"},
				nil)},
		},
		"duplicates across servers and gateways are one reference": {
			gws: []*networkingv1.Gateway{
				gatewayWith("apps", ingress, &networkingv1alpha3.ServerTLSSettings{Mode: simple, CredentialName: "web"},
					&networkingv1alpha3.ServerTLSSettings{Mode: mutual, CredentialName: "web"}),
				gatewayWith("apps", nil, &networkingv1alpha3.ServerTLSSettings{Mode: simple, CredentialName: "kubernetes://web"}),
			},
			want: []string{"apps/web", "apps/web-cacert"},
		},
		"DestinationRule with workloadSelector: its namespace only, CA unless insecureSkipVerify": {
			gws: []*networkingv1.Gateway{gatewayWith("apps", ingress)},
			drs: []*networkingv1.DestinationRule{ruleWith("client-ns", true, &networkingv1alpha3.DestinationRule{
				Host: "api.example.com",
				TrafficPolicy: &networkingv1alpha3.TrafficPolicy{
					Tls: clientTLS(networkingv1alpha3.ClientTLSSettings_MUTUAL, "top"),
					PortLevelSettings: []*networkingv1alpha3.TrafficPolicy_PortTrafficPolicy{{
						Tls: &networkingv1alpha3.ClientTLSSettings{Mode: networkingv1alpha3.ClientTLSSettings_SIMPLE,
							CredentialName: "port", InsecureSkipVerify: wrapperspb.Bool(true)},
					}},
				},
				Subsets: []*networkingv1alpha3.Subset{{Name: "v1", TrafficPolicy: &networkingv1alpha3.TrafficPolicy{
					Tls: clientTLS(networkingv1alpha3.ClientTLSSettings_SIMPLE, "subset"),
					PortLevelSettings: []*networkingv1alpha3.TrafficPolicy_PortTrafficPolicy{{
						Tls: clientTLS(networkingv1alpha3.ClientTLSSettings_MUTUAL, "subset-port"),
					}},
				}}},
			})},
			pods: []*corev1.Pod{ingressPod},
			want: []string{"client-ns/port", "client-ns/subset", "client-ns/subset-cacert", "client-ns/subset-port",
				"client-ns/subset-port-cacert", "client-ns/top", "client-ns/top-cacert"},
		},
		"DestinationRule without workloadSelector: its namespace and the gateway namespaces": {
			gws: []*networkingv1.Gateway{gatewayWith("apps", ingress)},
			drs: []*networkingv1.DestinationRule{ruleWith("egress", false, &networkingv1alpha3.DestinationRule{
				TrafficPolicy: &networkingv1alpha3.TrafficPolicy{Tls: clientTLS(networkingv1alpha3.ClientTLSSettings_SIMPLE, "up")},
			})},
			pods: []*corev1.Pod{ingressPod, otherPod},
			want: []string{"apps/up", "apps/up-cacert", "egress/up", "egress/up-cacert", "istio-system/up", "istio-system/up-cacert"},
		},
		"no credential anywhere: nothing": {
			gws: []*networkingv1.Gateway{gatewayWith("apps", ingress, nil)},
			drs: []*networkingv1.DestinationRule{ruleWith("egress", false, &networkingv1alpha3.DestinationRule{
				TrafficPolicy: &networkingv1alpha3.TrafficPolicy{Tls: clientTLS(networkingv1alpha3.ClientTLSSettings_SIMPLE, "")},
			})},
			pods: []*corev1.Pod{ingressPod},
		},
		"DestinationRule modes without a credential Secret": {
			drs: []*networkingv1.DestinationRule{ruleWith("ns", true, &networkingv1alpha3.DestinationRule{
				TrafficPolicy: &networkingv1alpha3.TrafficPolicy{Tls: clientTLS(networkingv1alpha3.ClientTLSSettings_ISTIO_MUTUAL, "a")},
				Subsets: []*networkingv1alpha3.Subset{
					{Name: "v1", TrafficPolicy: &networkingv1alpha3.TrafficPolicy{Tls: clientTLS(networkingv1alpha3.ClientTLSSettings_DISABLE, "b")}},
					{Name: "v2", TrafficPolicy: &networkingv1alpha3.TrafficPolicy{Tls: clientTLS(networkingv1alpha3.ClientTLSSettings_MUTUAL, "builtin://")}},
					{Name: "v3"},
				},
			})},
		},
		"SecretNamespaces limits every reference": {
			gws: []*networkingv1.Gateway{gatewayWith("apps", ingress,
				&networkingv1alpha3.ServerTLSSettings{Mode: mutual, CredentialName: "web"},
				&networkingv1alpha3.ServerTLSSettings{Mode: simple, CredentialName: "kubernetes://other/b"})},
			drs: []*networkingv1.DestinationRule{ruleWith("egress", false, &networkingv1alpha3.DestinationRule{
				TrafficPolicy: &networkingv1alpha3.TrafficPolicy{Tls: clientTLS(networkingv1alpha3.ClientTLSSettings_SIMPLE, "up")},
			})},
			pods:    []*corev1.Pod{ingressPod},
			allowed: []string{"istio-system"},
			want:    []string{"istio-system/up", "istio-system/up-cacert", "istio-system/web", "istio-system/web-cacert"},
		},
	} {
		got := keys(referencedSecrets(tc.gws, tc.drs, tc.pods, tc.allowed))
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: referenced secrets (-want +got):\n%s", name, diff)
		}
	}
}

// TestCredentialSecretNames: the credentialName spellings a Gateway or DestinationRule may use
// read the Secret they name (model.CredentialSecrets), and other schemes read none.
func TestCredentialSecretNames(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"web": "/web", "kubernetes://web": "/web", "kubernetes://ns/web": "ns/web", "ns/web": "ns/web",
		"": "-", "kubernetes://": "-", "builtin://": "-", "configmap://ns/x": "-",
	} {
		refs := model.CredentialSecrets(model.CredentialSDSName(in), false)
		got := "-"
		if len(refs) > 1 {
			t.Errorf("credential %q reads %d Secrets, want at most one", in, len(refs))
		}
		if len(refs) > 0 {
			got = refs[0].Namespace + "/" + refs[0].Name
			if strings.Contains(refs[0].Name, "/") {
				t.Errorf("credential %q: name %q still has a namespace", in, refs[0].Name)
			}
		}
		if got != want {
			t.Errorf("credential %q reads %q, want %q", in, got, want)
		}
	}
}

package kube_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/kube"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// TestOpaqueCredentialSecret: an Opaque Secret with Istio's generic keys (cert, key, cacert),
// as `kubectl create secret generic` makes it, named by a MUTUAL Gateway server reaches the
// gateway's SDS secrets; a rotation, a deletion and a re-creation propagate; when the Gateway
// stops naming it, it leaves the store. An Opaque Secret nothing names never enters the store,
// and a kubernetes.io/tls credential works as before.
func TestOpaqueCredentialSecret(t *testing.T) {
	kc, ic := clients(t)
	ctx := context.Background()
	ns := newNamespace(t, kc, "opaque")
	r := startSource(t, restConfig, kube.Options{})
	certA, keyA := selfSigned(t, "a.example.com")
	certB, keyB := selfSigned(t, "b.example.com")

	opaque := map[string][]byte{"cert": certA, "key": keyA, "cacert": certA}
	createSecret(t, kc, ns, "web-cred", corev1.SecretTypeOpaque, opaque)
	createSecret(t, kc, ns, "unreferenced", corev1.SecretTypeOpaque, opaque)
	createSecret(t, kc, ns, "tls-cred", corev1.SecretTypeTLS, map[string][]byte{"tls.crt": certB, "tls.key": keyB})
	selector := map[string]string{"istio": "gw-" + ns}
	gw := createTLSGateway(t, ic, ns, selector, "web-cred", "tls-cred")
	labels := map[string]string{"istio": "gw-" + ns}

	served := func(s *model.Store) map[string]*tlsv3.Secret { return sdsSecrets(s, ns, labels) }
	s := r.col.waitFor(t, "the Opaque credential served", func(s *model.Store, _ []model.Problem) bool {
		sec := served(s)
		return bytes.Equal(certOf(sec["kubernetes://web-cred"]), certA) && sec["kubernetes://web-cred-cacert"] != nil &&
			bytes.Equal(certOf(sec["kubernetes://tls-cred"]), certB)
	})
	if got := served(s)["kubernetes://web-cred-cacert"].GetValidationContext().GetTrustedCa().GetInlineBytes(); !bytes.Equal(got, certA) {
		t.Errorf("web-cred-cacert trusted CA = %q, want the cacert key of web-cred", got)
	}
	if has(s, model.KindSecret, ns, "unreferenced") {
		t.Error("an Opaque Secret no credentialName names is in the store")
	}
	watchesBefore := secretWatches(r)
	if watchesBefore < 1 {
		t.Errorf("controlplane_kube_secret_watches = %v, want at least web-cred's watch", watchesBefore)
	}

	// Rotation.
	updateSecretData(t, kc, ns, "web-cred", map[string][]byte{"cert": certB, "key": keyB, "cacert": certA})
	r.col.waitFor(t, "the rotated certificate served", func(s *model.Store, _ []model.Problem) bool {
		return bytes.Equal(certOf(served(s)["kubernetes://web-cred"]), certB)
	})

	// Deletion, then re-creation while the Gateway still names it.
	if err := kc.CoreV1().Secrets(ns).Delete(ctx, "web-cred", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	r.col.waitFor(t, "the deleted Secret gone", func(s *model.Store, ps []model.Problem) bool {
		return !has(s, model.KindSecret, ns, "web-cred") && served(s)["kubernetes://web-cred"] == nil
	})
	createSecret(t, kc, ns, "web-cred", corev1.SecretTypeOpaque, opaque)
	r.col.waitFor(t, "the re-created Secret served", func(s *model.Store, _ []model.Problem) bool {
		return bytes.Equal(certOf(served(s)["kubernetes://web-cred"]), certA)
	})

	// The Gateway stops naming it: it leaves the store; the TLS credential stays.
	gw, err := ic.NetworkingV1().Gateways(ns).Get(ctx, gw.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gw.Spec.Servers[0].Tls.CredentialName = "tls-cred"
	if _, err := ic.NetworkingV1().Gateways(ns).Update(ctx, gw, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	s = r.col.waitFor(t, "the unreferenced Secret gone", func(s *model.Store, _ []model.Problem) bool {
		return !has(s, model.KindSecret, ns, "web-cred")
	})
	if !bytes.Equal(certOf(served(s)["kubernetes://tls-cred"]), certB) {
		t.Error("the kubernetes.io/tls credential is no longer served")
	}
	if after := secretWatches(r); after >= watchesBefore {
		t.Errorf("controlplane_kube_secret_watches = %v after a reference went, want fewer than %v", after, watchesBefore)
	}
	if n := countSecrets(s, ns, "tls-cred"); n != 1 {
		t.Errorf("the store holds Secret tls-cred %d times, want once (both watches saw it)", n)
	}
	if has(s, model.KindSecret, ns, "unreferenced") {
		t.Error("an Opaque Secret no credentialName names is in the store")
	}
}

// TestOpaqueSecretGatewayNamespace is Istio's documented layout: the Gateway next to the
// application, the credential next to the ingress gateway Pods. With SecretNamespaces set to
// the gateway's namespace the credential there is served, and the same name in the Gateway's
// namespace (not allowed) is not watched.
func TestOpaqueSecretGatewayNamespace(t *testing.T) {
	kc, ic := clients(t)
	gwNS, appNS := newNamespace(t, kc, "ingress"), newNamespace(t, kc, "app")
	r := startSource(t, restConfig, kube.Options{SecretNamespaces: []string{gwNS}})
	cert, key := selfSigned(t, "app.example.com")
	for _, ns := range []string{gwNS, appNS} {
		createSecret(t, kc, ns, "app-cred", corev1.SecretTypeOpaque, map[string][]byte{"cert": cert, "key": key, "cacert": cert})
	}
	labels := map[string]string{"istio": "ingress-" + gwNS}
	createTLSGateway(t, ic, appNS, labels, "app-cred", "")
	// The gateway Pod arrives after the Gateway: its namespace joins the references then.
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "ingress-1", Namespace: gwNS, Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "proxy", Image: "example/proxy"}}},
	}
	if _, err := kc.CoreV1().Pods(gwNS).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	s := r.col.waitFor(t, "the credential in the gateway namespace served", func(s *model.Store, _ []model.Problem) bool {
		sec := sdsSecrets(s, gwNS, labels)
		return bytes.Equal(certOf(sec["kubernetes://app-cred"]), cert) && sec["kubernetes://app-cred-cacert"] != nil
	})
	if has(s, model.KindSecret, appNS, "app-cred") {
		t.Errorf("Secret %s/app-cred is in the store although %s is not in SecretNamespaces", appNS, appNS)
	}
}

// createTLSGateway creates Gateway tls-gw: port 443 MUTUAL with credential mutualCred and,
// when simpleCred is set, port 8443 SIMPLE with it.
func createTLSGateway(t *testing.T, ic istioclient.Interface, ns string, selector map[string]string, mutualCred, simpleCred string) *networkingv1.Gateway {
	t.Helper()
	gw := &networkingv1.Gateway{ObjectMeta: metav1.ObjectMeta{Name: "tls-gw", Namespace: ns}}
	gw.Spec.Selector = selector
	gw.Spec.Servers = []*networkingv1alpha3.Server{{
		Port: &networkingv1alpha3.Port{Number: 443, Name: "https", Protocol: "HTTPS"}, Hosts: []string{"a.example.com"},
		Tls: &networkingv1alpha3.ServerTLSSettings{Mode: networkingv1alpha3.ServerTLSSettings_MUTUAL, CredentialName: mutualCred},
	}}
	if simpleCred != "" {
		gw.Spec.Servers = append(gw.Spec.Servers, &networkingv1alpha3.Server{
			Port: &networkingv1alpha3.Port{Number: 8443, Name: "https-b", Protocol: "HTTPS"}, Hosts: []string{"b.example.com"},
			Tls: &networkingv1alpha3.ServerTLSSettings{Mode: networkingv1alpha3.ServerTLSSettings_SIMPLE, CredentialName: simpleCred},
		})
	}
	out, err := ic.NetworkingV1().Gateways(ns).Create(context.Background(), gw, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func createSecret(t *testing.T, kc kubernetes.Interface, ns, name string, typ corev1.SecretType, data map[string][]byte) {
	t.Helper()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Type: typ, Data: data}
	if _, err := kc.CoreV1().Secrets(ns).Create(context.Background(), sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func updateSecretData(t *testing.T, kc kubernetes.Interface, ns, name string, data map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	sec, err := kc.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec.Data = data
	if _, err := kc.CoreV1().Secrets(ns).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// sdsSecrets translates the store for a gateway proxy in ns with labels and returns the SDS
// secrets it is served, by name.
func sdsSecrets(s *model.Store, ns string, labels map[string]string) map[string]*tlsv3.Secret {
	res, _ := translate.Proxy(translate.Inputs{Store: s, Proxy: model.Proxy{
		ID: "gateway~" + ns, Role: model.RoleGateway, Namespace: ns, Labels: labels,
	}})
	out := map[string]*tlsv3.Secret{}
	for _, sec := range res.Secrets {
		out[sec.GetName()] = sec
	}
	return out
}

func countSecrets(s *model.Store, ns, name string) int {
	n := 0
	for _, sec := range s.Secrets {
		if sec.Namespace == ns && sec.Name == name {
			n++
		}
	}
	return n
}

func certOf(s *tlsv3.Secret) []byte {
	return s.GetTlsCertificate().GetCertificateChain().GetInlineBytes()
}

// selfSigned returns a PEM certificate and key for host.
func selfSigned(t *testing.T, host string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// secretWatches reads controlplane_kube_secret_watches of a running source.
func secretWatches(r *running) float64 {
	families, err := r.reg.Gather()
	if err != nil {
		return -1
	}
	for _, f := range families {
		if f.GetName() == "controlplane_kube_secret_watches" {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

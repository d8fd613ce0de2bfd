package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// tlsLister is a lister over an informer-style cache holding the given Secrets.
func tlsLister(t *testing.T, secrets ...*corev1.Secret) corelisters.SecretLister {
	t.Helper()
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, s := range secrets {
		if err := idx.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	return corelisters.NewSecretLister(idx)
}

func tlsSecret(ns, name string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeTLS}
}

// TestWithoutTLSSecrets: a reference the kubernetes.io/tls informers hold gets no watch of
// its own; the others (other namespaces, the -cacert companions) keep theirs.
func TestWithoutTLSSecrets(t *testing.T) {
	t.Parallel()
	refs := map[secretKey]bool{
		{"apps", "web"}: true, {"apps", "web-cacert"}: true, {"other", "web"}: true, {"istio-system", "gw"}: true,
	}
	listers := []corelisters.SecretLister{
		tlsLister(t, tlsSecret("apps", "web"), tlsSecret("apps", "unreferenced")),
		tlsLister(t, tlsSecret("istio-system", "gw")),
	}
	got := keys(withoutTLSSecrets(refs, listers))
	if diff := cmp.Diff([]string{"apps/web-cacert", "other/web"}, got); diff != "" {
		t.Errorf("watched references (-want +got):\n%s", diff)
	}
	if got := keys(withoutTLSSecrets(map[secretKey]bool{{"apps", "web"}: true}, nil)); len(got) != 1 {
		t.Errorf("without TLS informers every reference is watched, got %v", got)
	}
}

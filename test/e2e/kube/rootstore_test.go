package kube_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plainenvoy/controlplane/pkg/ca"
	"github.com/plainenvoy/controlplane/pkg/sources/kube"
)

// TestCARootInSecret: four replicas starting together against one API server create exactly
// one root in the Secret and all use it; a later start loads the same root.
func TestCARootInSecret(t *testing.T) {
	requireAPIServer(t)
	kc, _ := clients(t)
	ns := newNamespace(t, kc, "ca")
	store := &kube.SecretRootStore{Client: kc, Namespace: ns, Name: "controlplane-ca"}

	roots := make([][]byte, 4)
	var wg sync.WaitGroup
	for i := range roots {
		wg.Go(func() {
			c, err := ca.New(context.Background(), ca.Options{Store: store})
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
				return
			}
			roots[i] = c.Root()
		})
	}
	wg.Wait()
	for i, r := range roots {
		if len(r) == 0 || !bytes.Equal(r, roots[0]) {
			t.Fatalf("replica %d has a different root", i)
		}
	}
	later, err := ca.New(context.Background(), ca.Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(later.Root(), roots[0]) {
		t.Fatal("a restart made a new root instead of loading the Secret's")
	}
	sec, err := kc.CoreV1().Secrets(ns).Get(context.Background(), "controlplane-ca", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sec.Data["ca-key.pem"]) == 0 || !bytes.Contains(roots[0], bytes.TrimSpace(sec.Data["ca-cert.pem"])[:40]) {
		t.Fatal("the Secret does not hold the root in ca-cert.pem / ca-key.pem")
	}
}

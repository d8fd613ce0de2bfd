package kube_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/plainenvoy/controlplane/pkg/sources/kube"
)

// TestRootPublisher: the leader writes the root to istio-ca-root-cert in every namespace,
// including ones created later, and repairs an edited one; a replica that is not the leader
// writes nothing.
func TestRootPublisher(t *testing.T) {
	requireAPIServer(t)
	kc, _ := clients(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	existing := newNamespace(t, kc, "root-a")
	var leader atomic.Bool
	root := []byte("-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n")
	p := &kube.RootPublisher{Client: kc, Root: root, Leader: leader.Load, Resync: 200 * time.Millisecond}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	time.Sleep(500 * time.Millisecond) // not the leader: nothing may be written
	if _, err := kc.CoreV1().ConfigMaps(existing).Get(ctx, kube.RootConfigMapName, metav1.GetOptions{}); err == nil {
		t.Fatal("a replica that is not the leader published the root")
	}
	leader.Store(true)
	later := newNamespace(t, kc, "root-b")
	for _, ns := range []string{existing, later} {
		waitRoot(t, kc, ns, string(root))
	}
	cm, _ := kc.CoreV1().ConfigMaps(later).Get(ctx, kube.RootConfigMapName, metav1.GetOptions{})
	cm.Data["root-cert.pem"] = "tampered"
	if _, err := kc.CoreV1().ConfigMaps(later).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRoot(t, kc, later, string(root))
}

// waitRoot waits until namespace ns holds the root ConfigMap with want.
func waitRoot(t *testing.T, kc kubernetes.Interface, ns, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		cm, err := kc.CoreV1().ConfigMaps(ns).Get(context.Background(), kube.RootConfigMapName, metav1.GetOptions{})
		if err == nil && cm.Data["root-cert.pem"] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s: root ConfigMap never held the root (last: %v, %v)", ns, cm, err)
		}
	}
}

package kube_test

import (
	"context"
	"slices"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plainenvoy/controlplane/test/e2e"
)

// TestServeTokenProof: the real binary with the CA root in a Secret sends a sidecar its
// workload key when the ADS stream carries that sidecar's service-account token, and only
// the trust bundle when it carries another account's token.
func TestServeTokenProof(t *testing.T) {
	kc, _ := clients(t)
	ctx := context.Background()
	ns := newNamespace(t, kc, "sds")
	for _, sa := range []string{"httpbin", "sleep"} {
		if _, err := kc.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ads := startServe(t, "--kubeconfig", kubeconfig, "--lease-namespace", ns, "--ca-secret", ns+"/controlplane-ca",
		"--ads-token-audience", "controlplane", "--publish-root-configmap")

	for _, tc := range []struct {
		tokenOf string
		want    []string
	}{
		{"httpbin", []string{"ROOTCA", "default"}},
		{"sleep", []string{"ROOTCA"}},
	} {
		tr, err := kc.CoreV1().ServiceAccounts(ns).CreateToken(ctx, tc.tokenOf, &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{Audiences: []string{"controlplane"}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient(ads, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		sctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+tr.Status.Token)
		c, err := e2e.Open(sctx, conn, e2e.Node("httpbin-"+tc.tokenOf, "sidecar", ns, map[string]string{"app": "httpbin"}, "httpbin"), false)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		if err := c.Subscribe(resourcev3.SecretType, []string{"default", "ROOTCA"}, "", nil); err != nil {
			t.Fatal(err)
		}
		r, err := c.Next(20 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for name := range r.Resources {
			got = append(got, name)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("with %s's token the httpbin sidecar got %v, want %v", tc.tokenOf, got, tc.want)
		}
	}
	// The leader publishes the same root in the namespace's istio-ca-root-cert ConfigMap.
	sec, err := kc.CoreV1().Secrets(ns).Get(ctx, "controlplane-ca", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitRoot(t, kc, ns, string(sec.Data["ca-cert.pem"]))
}

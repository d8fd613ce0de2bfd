package kube_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/metadata"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plainenvoy/controlplane/pkg/sources/kube"
)

// TestTokenProver: a projected service-account token for the control plane's audience proves
// its namespace and service account; a token for another audience, a garbage token and no
// token prove nothing.
func TestTokenProver(t *testing.T) {
	requireAPIServer(t)
	kc, _ := clients(t)
	ctx := context.Background()
	ns := newNamespace(t, kc, "token")
	if _, err := kc.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "httpbin"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	token := func(aud string) string {
		tr, err := kc.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "httpbin", &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{Audiences: []string{aud}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Status.Token
	}
	prover := kube.TokenProver{Client: kc, Audiences: []string{"controlplane"}}
	with := func(tok string) context.Context {
		return metadata.NewIncomingContext(ctx, metadata.Pairs("authorization", "Bearer "+tok))
	}
	gotNS, gotSA, err := prover.Prove(with(token("controlplane")))
	if err != nil || gotNS != ns || gotSA != "httpbin" {
		t.Fatalf("Prove = %s/%s, %v; want %s/httpbin", gotNS, gotSA, err, ns)
	}
	for name, c := range map[string]context.Context{
		"other audience": with(token("some-other-service")),
		"garbage":        with("not-a-token"),
		"no token":       ctx,
	} {
		if ns, sa, err := prover.Prove(c); err == nil {
			t.Errorf("%s: proved %s/%s", name, ns, sa)
		}
	}
}

package kube_test

import (
	"context"
	"testing"
	"time"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/kube"
)

// TestAPIServerRestart restarts kube-apiserver under a running source: the source publishes
// nothing that loses objects during the outage, and after the restart it picks up an object
// created then (its informers re-list or re-watch by themselves).
func TestAPIServerRestart(t *testing.T) {
	kc, ic := clients(t)
	ctx := context.Background()
	ns := newNamespace(t, kc, "restart")
	r := startSource(t, restConfig, kube.Options{})
	createPolicy(t, ic, ns, "before", "10.0.0.0/8")
	r.col.waitFor(t, "the policy created before the restart", func(s *model.Store, _ []model.Problem) bool {
		return has(s, model.KindAuthorizationPolicy, ns, "before")
	})
	_, _, published := r.col.latest()

	bin, args, err := apiServer.stop()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // watches break and re-lists fail while it is down
	if err := apiServer.start(ctx, kc, bin, args); err != nil {
		t.Fatalf("restarting kube-apiserver: %v", err)
	}
	createPolicy(t, ic, ns, "after", "10.0.0.0/8")
	r.col.waitFor(t, "the policy created after the restart", func(s *model.Store, _ []model.Problem) bool {
		return has(s, model.KindAuthorizationPolicy, ns, "after")
	})

	r.col.mu.Lock()
	defer r.col.mu.Unlock()
	for i, s := range r.col.stores[published-1:] {
		if !has(s, model.KindAuthorizationPolicy, ns, "before") {
			t.Errorf("store %d published around the outage lost the policy created before it", published+i)
		}
	}
}

package kube_test

import (
	"testing"
	"time"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/kube"
)

// TestSingleChangeIsNotDebounced: with an hour's debounce, one policy created after a quiet
// spell is published at once (a wait-for-quiet debounce would hold it for the hour), while a
// second one right behind it is coalesced and waits.
func TestSingleChangeIsNotDebounced(t *testing.T) {
	kc, ic := clients(t)
	ns := newNamespace(t, kc, "debounce")
	r := startSource(t, restConfig, kube.Options{Debounce: time.Hour})

	createPolicy(t, ic, ns, "first", "10.0.0.0/8")
	r.col.waitFor(t, "the first policy", func(s *model.Store, _ []model.Problem) bool {
		return has(s, model.KindAuthorizationPolicy, ns, "first")
	})
	createPolicy(t, ic, ns, "second", "10.0.0.0/8")
	time.Sleep(500 * time.Millisecond)
	if s, _, _ := r.col.latest(); has(s, model.KindAuthorizationPolicy, ns, "second") {
		t.Fatal("the second policy, within the debounce of the first, was published without waiting")
	}
}

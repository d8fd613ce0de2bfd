package snapshot

import (
	"fmt"
	"sync"
	"testing"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// countingTranslate records every translation and the root policy's principal it saw, and
// returns a listener named after that principal, so every store gives a new version.
type countingTranslate struct {
	mu   sync.Mutex
	seen []string
}

func (c *countingTranslate) translate(in translate.Inputs) (translate.Resources, []model.Problem) {
	principal := "none"
	for _, o := range in.Store.Objects() {
		if p, ok := o.(*model.AuthorizationPolicy); ok {
			principal = p.Spec.Rules[0].From[0].Source.Principals[0]
		}
	}
	c.mu.Lock()
	c.seen = append(c.seen, principal)
	c.mu.Unlock()
	return translate.Resources{Listeners: []*listenerv3.Listener{{Name: principal}}}, nil
}

func (c *countingTranslate) builds() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

func rootPolicy(principal string) *model.Store {
	return model.NewStore(model.Mesh{}, []model.Object{ap(model.DefaultRootNamespace, "root", principal)})
}

// startRebuilding returns a server with one connected gateway group, built from rootPolicy("v0"),
// whose rebuild loop runs until the test ends.
func startRebuilding(t *testing.T, debounce time.Duration) (*Server, *countingTranslate) {
	t.Helper()
	ct := &countingTranslate{}
	s, err := New(Options{Translate: ct.translate, Debounce: debounce})
	if err != nil {
		t.Fatal(err)
	}
	s.SetStore(rootPolicy("v0"))
	s.attach(t.Context(), model.Proxy{Role: model.RoleGateway, Namespace: "foo"})
	go s.Run(t.Context())
	return s, ct
}

func waitBuilds(t *testing.T, ct *countingTranslate, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(ct.builds()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("builds %v, want at least %d", ct.builds(), n)
		}
		time.Sleep(time.Millisecond)
	}
	return ct.builds()
}

// TestIsolatedChangeIsNotDebounced: with an hour's debounce, a change after a quiet spell is
// still built at once (a trailing-only debounce would hold it for the hour).
//
// The first store was set before any group existed, so Run starts with a wake-up that has
// nothing to rebuild; it must not open the debounce window either.
func TestIsolatedChangeIsNotDebounced(t *testing.T) {
	s, ct := startRebuilding(t, time.Hour)
	for len(s.kick) > 0 { // Run has taken the empty wake-up
		time.Sleep(time.Millisecond)
	}
	s.SetStore(rootPolicy("v1"))
	if got := waitBuilds(t, ct, 2); got[1] != "v1" {
		t.Fatalf("builds %v, want [v0 v1]", got)
	}
}

// TestBurstIsCoalesced: a burst of changes right after a rebuild gives one more rebuild, of
// the last change, once the debounce window has passed.
func TestBurstIsCoalesced(t *testing.T) {
	const debounce = 500 * time.Millisecond
	s, ct := startRebuilding(t, debounce)
	s.SetStore(rootPolicy("v1")) // leading edge: built at once, opens the window
	waitBuilds(t, ct, 2)
	for i := 2; i <= 30; i++ {
		s.SetStore(rootPolicy(fmt.Sprintf("v%d", i)))
	}
	got := waitBuilds(t, ct, 3)
	if got[len(got)-1] != "v30" {
		t.Fatalf("builds %v: the last must be v30", got)
	}
	time.Sleep(2 * debounce) // a late extra rebuild would show up here
	if got := ct.builds(); len(got) != 3 {
		t.Fatalf("builds %v: the burst of 29 changes must give one rebuild", got)
	}
}

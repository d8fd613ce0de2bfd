package e2e

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/snapshot"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// TestKeysSetDuringFirstBuildReachProxy: a JWKS fetch that completes while a new group's first
// build is translating (the build read no keys, and the group does not yet record which key
// sources it inlines) must still reach the proxy. Otherwise the gateway keeps the placeholder
// key set, rejecting every token, until the issuer's keys change again.
func TestKeysSetDuringFirstBuildReachProxy(t *testing.T) {
	const uri = "https://idp.example.com/jwks.json"
	building, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv := startServer(t, snapshot.Options{Translate: func(in translate.Inputs) (translate.Resources, []model.Problem) {
		once.Do(func() { close(building); <-release }) // hold the first build mid-translation
		return translate.Proxy(in)
	}})
	objs, problems := file.Decode("policy.yaml", []byte(gatewayWithJWT(uri)))
	if model.HasErrors(problems) {
		t.Fatal(problems)
	}
	srv.SetStore(model.NewStore(model.Mesh{}, objs))

	c := dial(t, srv.Addr, gatewayNode("gw-jwt", "istio-system"), false)
	if err := c.Subscribe(lds, nil, "", nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-building:
	case <-time.After(5 * time.Second):
		t.Fatal("the group's first build never started")
	}
	srv.SetKeys(map[string]model.KeySet{uri: {Source: uri, JSON: otherKeySet(t)}}, []string{uri})
	close(release)

	// The first build read the inputs before SetKeys, so it inlines the placeholder. The
	// rebuild for the moved keys can be published before the stream's watch opens, and then
	// the proxy's first response is already the second version: what matters is that the
	// proxy ends with the keys.
	r := next(t, c)
	kids := strings.Join(inlineKIDs(t, servedJWTAuthn(t, r)), ",")
	if kids == "unfetched" {
		if err := c.ACK(r); err != nil {
			t.Fatal(err)
		}
		var err error
		if r, err = c.Next(5 * time.Second); err != nil {
			t.Fatalf("the key set set during the first build never reached the proxy: %v", err)
		}
		kids = strings.Join(inlineKIDs(t, servedJWTAuthn(t, r)), ",")
	}
	if kids != "other" {
		t.Fatalf("the proxy's configuration inlines kids %v, want [other]", kids)
	}
}

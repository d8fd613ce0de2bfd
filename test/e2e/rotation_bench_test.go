//go:build bench

package e2e

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/snapshot"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
)

// TestKeyRotationPushLoad measures issue #6's "time from a rotated key being served to every
// affected connected proxy having ACKed": 1,000 gateway proxies in 10 groups whose config
// inlines one issuer's keys; the new key set is handed to the server (what `serve` does the
// moment the fetch sees a change) and every proxy's new listener version and ACK are timed.
// Run: go test -tags bench -run TestKeyRotationPushLoad -v ./test/e2e
func TestKeyRotationPushLoad(t *testing.T) {
	const clients, groups, source = 1000, 10, "https://idp.example.com/jwks.json"
	var docs string
	for i := range groups {
		docs += fmt.Sprintf("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: ns-%d}\n"+
			"spec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: %d, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n---\n", i, 8000+i)
	}
	docs += "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: jwt, namespace: istio-system}\n" +
		"spec:\n  selector: {matchLabels: {istio: ingressgateway}}\n  jwtRules:\n  - issuer: https://idp.example.com\n    jwksUri: " + source + "\n"
	objs, problems := file.Decode("bench.yaml", []byte(docs))
	if model.HasErrors(problems) {
		t.Fatal(problems)
	}
	srv := startServer(t, snapshot.Options{})
	keys := func(kid string) map[string]model.KeySet {
		return map[string]model.KeySet{source: {Source: source, JSON: `{"keys":[{"kty":"EC","crv":"P-256","kid":"` + kid +
			`","alg":"ES256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`}}
	}
	srv.SetKeys(keys("k1"), []string{source})
	srv.SetStore(model.NewStore(model.Mesh{}, objs))

	cs := make([]*Client, clients)
	for i := range cs {
		cs[i] = dial(t, srv.Addr, gatewayNode(fmt.Sprintf("gw-%d", i), fmt.Sprintf("ns-%d", i%groups)), false)
		if err := cs[i].Subscribe(lds, nil, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cs { // initial config
		if err := c.ACK(next(t, c)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond) // let ACKs settle

	start := time.Now()
	srv.SetKeys(keys("k2"), []string{source})
	lat := make([]time.Duration, clients)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			r, err := c.Next(30 * time.Second)
			if err != nil {
				t.Errorf("client %d: %v", i, err)
				return
			}
			if err := c.ACK(r); err != nil {
				t.Errorf("client %d: %v", i, err)
			}
			lat[i] = time.Since(start)
		})
	}
	wg.Wait()
	slices.Sort(lat)
	t.Logf("key rotation → %d proxies in %d groups received and ACKed: p50 %v, p99 %v, max %v",
		clients, groups, lat[clients/2], lat[clients*99/100], lat[clients-1])
}

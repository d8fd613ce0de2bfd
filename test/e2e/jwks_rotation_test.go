package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/go-jose/go-jose/v4"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/plainenvoy/controlplane/pkg/explain"
	"github.com/plainenvoy/controlplane/pkg/jwks"
	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/snapshot"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
)

// TestJWKSRotationReachesProxy: the control plane fetches an issuer's keys from a JWKS server,
// inlines them in the listener it serves over ADS, and when the server rotates to Istio's sample
// key set, a connected proxy receives a new listener version in which Istio's demo token (which
// the first key set cannot verify) now verifies — checked by evaluating the served jwt_authn
// configuration, not the YAML.
func TestJWKSRotationReachesProxy(t *testing.T) {
	istioJWKS := readFile(t, "../../pkg/explain/testdata/istio-samples/jwks.json")
	demoToken := strings.TrimSpace(readFile(t, "../../pkg/explain/testdata/istio-samples/demo.jwt"))
	var served atomic.Value
	served.Store(otherKeySet(t))
	idp := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(served.Load().(string)))
	}))
	t.Cleanup(idp.Close)

	srv := startServer(t, snapshot.Options{})
	keys, err := jwks.NewManager(jwks.Options{
		CABundle:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idp.Certificate().Raw}),
		Refresh:    100 * time.Millisecond,
		Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var forwarded atomic.Int32 // key changes handed to the snapshot server
	done := make(chan struct{}, 2)
	go func() { _ = keys.Run(ctx); done <- struct{}{} }()
	go func() { // what `serve` does: every key change goes to the snapshot server
		defer func() { done <- struct{}{} }()
		for {
			select {
			case <-ctx.Done():
				return
			case changed := <-keys.Changes():
				srv.SetKeys(keys.Keys(), changed)
				forwarded.Add(1)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done; <-done })

	objs, problems := file.Decode("policy.yaml", []byte(gatewayWithJWT(idp.URL+"/jwks.json")))
	if model.HasErrors(problems) {
		t.Fatal(problems)
	}
	store := model.NewStore(model.Mesh{}, objs)
	keys.SetSources(ctx, []jwks.Source{{Key: idp.URL + "/jwks.json", URI: idp.URL + "/jwks.json", Issuer: "testing@secure.istio.io"}})
	srv.SetStore(store)
	// Connect once the first key set reached the snapshot server: a first build racing with it
	// is TestKeysSetDuringFirstBuildReachProxy's subject, not this test's.
	waitFor(t, func() bool { return forwarded.Load() > 0 })

	c := dial(t, srv.Addr, gatewayNode("gw-jwt", "istio-system"), false)
	if err := c.Subscribe(lds, nil, "", nil); err != nil {
		t.Fatal(err)
	}
	// Until the demo token verifies, every listener version must reject it (never accept). The
	// IdP rotates to Istio's keys only once a version inlining its first key set (kid "other")
	// was received and ACKed: the placeholder served before any fetch is not a key set, so going
	// from it straight to Istio's keys would not be a rotation.
	var versions []string
	sawFirst := false
	deadline := time.Now().Add(10 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("demo token never verified; listener versions seen: %v", versions)
		}
		r, err := c.Next(time.Until(deadline))
		if err != nil {
			t.Fatalf("no listener after versions %v: %v (first key set served: %v)", versions, err, sawFirst)
		}
		if err := c.ACK(r); err != nil {
			t.Fatal(err)
		}
		kids := inlineKIDs(t, servedJWTAuthn(t, r))
		versions = append(versions, r.Version+" kids="+strings.Join(kids, ","))
		res := evaluate(t, r, demoToken)
		if res.Allowed {
			// Rotation happens only after a rejecting version was seen, so this is a new one.
			if served.Load().(string) != istioJWKS {
				t.Fatalf("demo token accepted by version %s before Istio's keys were served", r.Version)
			}
			if !sawFirst {
				t.Fatalf("Istio's keys arrived without the first key set ever being served: %v", versions)
			}
			if slices.Contains(kids, "other") {
				t.Fatalf("version %s still inlines the rotated-out key: kids %v", r.Version, kids)
			}
			break
		}
		if res.Code != http.StatusUnauthorized {
			t.Fatalf("version %s: demo token got %d %q, want 401 before rotation", r.Version, res.Code, res.Body)
		}
		if slices.Contains(kids, "other") && !sawFirst {
			sawFirst = true
			served.Store(istioJWKS) // rotate: the next refresh fetches Istio's sample keys
		}
	}
}

// inlineKIDs lists the key ids of every provider's inline JWKS, in order.
func inlineKIDs(t *testing.T, cfg *jwtauthnv3.JwtAuthentication) []string {
	t.Helper()
	var kids []string
	for name, p := range cfg.GetProviders() {
		var set struct {
			Keys []struct {
				Kid string `json:"kid"`
			} `json:"keys"`
		}
		if err := json.Unmarshal([]byte(p.GetLocalJwks().GetInlineString()), &set); err != nil {
			t.Fatalf("provider %s: inline JWKS: %v", name, err)
		}
		for _, k := range set.Keys {
			kids = append(kids, k.Kid)
		}
	}
	slices.Sort(kids)
	return kids
}

// evaluate runs the demo token through the jwt_authn filter of the served listener.
func evaluate(t *testing.T, r Response, token string) explain.Result {
	t.Helper()
	cfg := servedJWTAuthn(t, r)
	res, err := explain.JWT(cfg, explain.Request{
		Method: "GET", Host: "httpbin.example.com", Path: "/headers", Now: time.Now(),
		Headers: map[string][]string{"Authorization": {"Bearer " + token}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func servedJWTAuthn(t *testing.T, r Response) *jwtauthnv3.JwtAuthentication {
	t.Helper()
	for name, raw := range r.Resources {
		var l listenerv3.Listener
		if err := proto.Unmarshal(raw, &l); err != nil {
			t.Fatalf("listener %s: %v", name, err)
		}
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				var hcm hcmv3.HttpConnectionManager
				if f.GetTypedConfig().UnmarshalTo(&hcm) != nil {
					continue
				}
				for _, hf := range hcm.GetHttpFilters() {
					var cfg jwtauthnv3.JwtAuthentication
					if hf.GetTypedConfig().UnmarshalTo(&cfg) == nil {
						return &cfg
					}
				}
			}
		}
	}
	t.Fatalf("no jwt_authn filter in the served listeners %v", slicesOf(r.Resources))
	return nil
}

func gatewayWithJWT(jwksURI string) string {
	return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  jwtRules:
  - issuer: testing@secure.istio.io
    jwksUri: ` + jwksURI + "\n"
}

// otherKeySet is a valid JWKS whose key did not sign Istio's demo token.
func otherKeySet(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "other", Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Package envoy runs the control plane against a real Envoy. It needs an Envoy binary
// (>= 1.29, SEMANTICS.md §3.1) named by ENVOY_BIN and skips, saying so, without one.
package envoy

import (
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envoyBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("ENVOY_BIN")
	if bin == "" {
		t.Skip("ENVOY_BIN is not set: this suite runs a real Envoy (>= 1.29); set ENVOY_BIN=/path/to/envoy to run it")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("ENVOY_BIN=%s: %v", bin, err)
	}
	return bin
}

// TestEndUserAuthentication reproduces Istio's end-user authentication task at a gateway:
// the control plane fetches Istio's sample JWKS from a local IdP, inlines it, and Envoy
// accepts requests without a token, rejects a malformed one with 401, denies /headers without
// a principal with 403, and lets the demo token through with its payload forwarded.
func TestEndUserAuthentication(t *testing.T) {
	envoy := envoyBin(t)
	root := repoRoot(t)
	jwks := readFile(t, filepath.Join(root, "pkg/explain/testdata/istio-samples/jwks.json"))
	demo := strings.TrimSpace(readFile(t, filepath.Join(root, "pkg/explain/testdata/istio-samples/demo.jwt")))

	idp := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, jwks) }))
	t.Cleanup(idp.Close)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "path=%s x-jwt-payload=%s\n", r.URL.Path, r.Header.Get("x-jwt-payload"))
	}))
	t.Cleanup(backend.Close)

	gwPort, adsPort, adminPort := freePort(t), freePort(t), freePort(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "idp-ca.pem")
	writeFile(t, caFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idp.Certificate().Raw})))
	cfg := filepath.Join(dir, "config")
	writeFile(t, filepath.Join(cfg, "policy.yaml"), gatewayPolicy(gwPort, backend.Listener.Addr().(*net.TCPAddr).Port, idp.URL+"/jwks.json"))

	start(t, "", root, "serve", "--config", cfg,
		"--ads-addr", fmt.Sprintf("127.0.0.1:%d", adsPort), "--monitoring-addr", "127.0.0.1:0", "--jwks-ca-bundle", caFile)
	bootstrap := filepath.Join(dir, "envoy.yaml")
	writeFile(t, bootstrap, gatewayBootstrap(adsPort, adminPort))
	start(t, envoy, "", "-c", bootstrap, "--base-id", fmt.Sprint(adminPort), "-l", "warning")

	url := fmt.Sprintf("http://127.0.0.1:%d", gwPort)
	// Ready once the demo token verifies: listeners arrived and the keys were fetched.
	eventually(t, func() bool { code, _ := get(url+"/headers", demo); return code == 200 })

	for _, tc := range []struct {
		path, token string
		code        int
		body        string
	}{
		{"/ip", "", 200, "path=/ip"},
		{"/ip", "deadbeef", 401, "Jwt is not in the form of Header.Payload.Signature"},
		{"/headers", "", 403, "RBAC: access denied"},
		{"/headers", demo, 200, "x-jwt-payload=ey"},
	} {
		code, body := get(url+tc.path, tc.token)
		if code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("GET %s token=%.10q: %d %q, want %d containing %q", tc.path, tc.token, code, body, tc.code, tc.body)
		}
	}
}

func gatewayPolicy(gwPort, backendPort int, jwksURI string) string {
	return fmt.Sprintf(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: %d, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin, namespace: foo}
spec:
  hosts: ["*"]
  gateways: [istio-system/gw]
  http:
  - route:
    - destination: {host: httpbin.foo.svc.cluster.local, port: {number: 8000}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin, namespace: foo}
spec:
  hosts: [httpbin.foo.svc.cluster.local]
  ports: [{number: 8000, name: http, protocol: HTTP, targetPort: %d}]
  resolution: STATIC
  endpoints: [{address: 127.0.0.1}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  jwtRules:
  - issuer: testing@secure.istio.io
    jwksUri: %s
    outputPayloadToHeader: x-jwt-payload
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: require-jwt, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules:
  - from: [{source: {notRequestPrincipals: ["*"]}}]
    to: [{operation: {paths: ["/headers"]}}]
`, gwPort, backendPort, jwksURI)
}

func gatewayBootstrap(adsPort, adminPort int) string {
	return fmt.Sprintf(`node:
  id: gw-e2e
  cluster: gw
  metadata: {role: gateway, namespace: istio-system, labels: {istio: ingressgateway}}
dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [{envoy_grpc: {cluster_name: xds}}]
  cds_config: {resource_api_version: V3, ads: {}}
  lds_config: {resource_api_version: V3, ads: {}}
static_resources:
  clusters:
  - name: xds
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    load_assignment:
      cluster_name: xds
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: %d}}
`, adsPort, adminPort)
}

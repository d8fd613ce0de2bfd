package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeMesh writes a policy directory with one ingress gateway namespace per group
// (ns-0 … ns-<groups-1>): a Gateway on port 8080 and an AuthorizationPolicy each, plus a
// mesh-wide policy in the root namespace. Every gateway proxy of namespace ns-i forms one group.
func writeMesh(t testing.TB, dir string, groups int) {
	t.Helper()
	for i := range groups {
		writePolicy(t, dir, fmt.Sprintf("ns-%d", i), "deny-private", "/private")
		gw := fmt.Sprintf(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: ns-%d
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*"]
`, i)
		writeFile(t, filepath.Join(dir, fmt.Sprintf("ns-%d-gateway.yaml", i)), gw)
	}
	writePolicy(t, dir, "istio-system", "root-deny", "/admin")
}

// writePolicy (re)writes the AuthorizationPolicy ns/name, denying the given path prefixes.
func writePolicy(t testing.TB, dir, ns, name string, paths ...string) {
	t.Helper()
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = fmt.Sprintf("%q", p+"*")
	}
	ap := fmt.Sprintf(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: %s
  namespace: %s
spec:
  action: DENY
  rules:
  - to:
    - operation:
        ports: ["8080"]
        paths: [%s]
`, name, ns, strings.Join(quoted, ", "))
	writeFile(t, filepath.Join(dir, ns+"-"+name+".yaml"), ap)
}

// writeFile replaces path atomically, as editors and kubectl-mounted ConfigMaps do.
func writeFile(t testing.TB, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

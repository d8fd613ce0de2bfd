package file

import (
	"fmt"
	"strings"
	"testing"
)

// benchObject returns the i-th object of a realistic mix of kinds, about 0.5 KB each.
func benchObject(i int) string {
	ns := fmt.Sprintf("ns%d", i%50)
	switch i % 5 {
	case 0:
		return fmt.Sprintf(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ap-%d, namespace: %s}
spec:
  selector: {matchLabels: {app: app-%d}}
  action: ALLOW
  rules:
  - from: [{source: {principals: ["cluster.local/ns/%s/sa/client"]}}]
    to: [{operation: {methods: [GET, POST], paths: ["/api/*"]}}]
    when: [{key: "request.auth.claims[groups]", values: [admins]}]
`, i, ns, i, ns)
	case 1:
		return fmt.Sprintf(`apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: ra-%d, namespace: %s}
spec:
  selector: {matchLabels: {app: app-%d}}
  jwtRules:
  - issuer: https://issuer-%d.example.com
    jwksUri: https://issuer-%d.example.com/keys
    forwardOriginalToken: true
`, i, ns, i, i, i)
	case 2:
		return fmt.Sprintf(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr-%d, namespace: %s}
spec:
  host: svc-%d.%s.svc.cluster.local
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
`, i, ns, i, ns)
	case 3:
		return fmt.Sprintf(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs-%d, namespace: %s}
spec:
  hosts: [svc-%d.example.com]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /v1}, headers: {x-user: {exact: test}}}]
    route: [{destination: {host: svc-%d, subset: v1}, weight: 90}, {destination: {host: svc-%d, subset: v2}, weight: 10}]
`, i, ns, i, i, i)
	}
	return fmt.Sprintf(`apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: pa-%d, namespace: %s}
spec:
  selector: {matchLabels: {app: app-%d}}
  mtls: {mode: STRICT}
  portLevelMtls: {8080: {mode: PERMISSIVE}}
`, i, ns, i)
}

// BenchmarkLoad reads a directory of 100 files holding the given number of objects.
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			files := map[string]string{}
			size := 0
			for f := range 100 {
				var docs []string
				for i := f; i < n; i += 100 {
					docs = append(docs, benchObject(i))
				}
				content := strings.Join(docs, "---\n")
				size += len(content)
				files[fmt.Sprintf("dir%d/file%03d.yaml", f%10, f)] = content
			}
			writeFiles(b, dir, files)
			s := newTestSource(b, dir)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				store, problems, err := s.Load()
				if err != nil || len(store.Objects()) != n {
					b.Fatalf("loaded %d objects, %d problems, err %v", len(store.Objects()), len(problems), err)
				}
			}
		})
	}
}

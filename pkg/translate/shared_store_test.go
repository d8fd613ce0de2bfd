package translate_test

import (
	"strings"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// sharedStoreMesh: httpbin in foo runs a proxy; a DestinationRule in client namespace a turns
// TLS off toward it for a's clients only (exportTo "."), so a's sidecar gets plaintext endpoints
// and b's sidecar auto mTLS endpoints tagged tlsMode=istio — from one store.
const sharedStoreMesh = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin, namespace: foo}
spec:
  hosts: [httpbin.foo.svc.cluster.local]
  location: MESH_INTERNAL
  ports: [{number: 8000, name: http, protocol: HTTP, targetPort: 8080}]
  resolution: STATIC
  workloadSelector: {labels: {app: httpbin}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: httpbin-1, namespace: foo}
spec: {address: 10.0.0.1, labels: {app: httpbin, security.istio.io/tlsMode: istio}, serviceAccount: httpbin}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: plain, namespace: a}
spec:
  host: httpbin.foo.svc.cluster.local
  exportTo: ["."]
  trafficPolicy: {tls: {mode: DISABLE}}
`

// TestSharedStoreKeepsProxiesApart: translating a's sidecar first must not hand its
// plaintext load assignment to b's sidecar (translation shares load assignments between
// proxies of one store), and the other way round.
func TestSharedStoreKeepsProxiesApart(t *testing.T) {
	objs, problems := file.Decode("mesh.yaml", []byte(sharedStoreMesh))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	sidecar := func(ns string) model.Proxy {
		return model.Proxy{Role: model.RoleSidecar, Namespace: ns, ServiceAccount: "sleep", Labels: map[string]string{"app": "sleep"},
			Interception: model.InterceptionTransparent}
	}
	tagged := func(store *model.Store, ns string) bool {
		res, _ := translate.Proxy(translate.Inputs{Store: store, Proxy: sidecar(ns)})
		for _, cla := range res.Endpoints {
			if cla.GetClusterName() == "outbound|8000||httpbin.foo.svc.cluster.local" {
				return tlsModeOf(cla) == "istio"
			}
		}
		t.Fatalf("%s: no load assignment for httpbin", ns)
		return false
	}
	for _, order := range [][]string{{"a", "b"}, {"b", "a"}} {
		store := model.NewStore(model.Mesh{}, objs)
		for _, ns := range order {
			if got, want := tagged(store, ns), ns == "b"; got != want {
				t.Errorf("order %v: %s's endpoints tagged for mTLS = %v, want %v", order, ns, got, want)
			}
		}
	}
}

func tlsModeOf(cla *endpointv3.ClusterLoadAssignment) string {
	for _, l := range cla.GetEndpoints() {
		for _, e := range l.GetLbEndpoints() {
			return e.GetMetadata().GetFilterMetadata()["envoy.transport_socket_match"].GetFields()["tlsMode"].GetStringValue()
		}
	}
	return ""
}

// TestExternalSDSProxyDoesNotLeak: a proxy whose workload certificates come from a local SDS
// agent has its clusters rewritten to point there; translated first from a shared store, it
// must not rewrite the clusters another proxy is given.
func TestExternalSDSProxyDoesNotLeak(t *testing.T) {
	objs, problems := file.Decode("mesh.yaml", []byte(sharedStoreMesh))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	store := model.NewStore(model.Mesh{}, objs)
	proxy := model.Proxy{Role: model.RoleSidecar, Namespace: "b", ServiceAccount: "sleep", Labels: map[string]string{"app": "sleep"},
		Interception: model.InterceptionTransparent}
	spire := proxy
	spire.WorkloadSDSCluster = "spire-agent"
	translate.Proxy(translate.Inputs{Store: store, Proxy: spire})
	res, _ := translate.Proxy(translate.Inputs{Store: store, Proxy: proxy})
	for _, c := range res.Clusters {
		if strings.Contains(prototext.Format(c), "spire-agent") {
			t.Fatalf("cluster %s of a proxy without an SDS agent points at the other proxy's agent", c.GetName())
		}
	}
}

// subsetMesh: one service with a v1 and a v2 endpoint; namespaces a and b each have their own
// DestinationRule (exportTo ".", no TLS) naming subset "v1", with different labels.
const subsetMesh = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: web, namespace: foo}
spec:
  hosts: [web.foo.svc.cluster.local]
  location: MESH_INTERNAL
  ports: [{number: 8000, name: http, protocol: HTTP, targetPort: 8080}]
  resolution: STATIC
  endpoints:
  - {address: 10.0.0.1, labels: {version: v1}}
  - {address: 10.0.0.2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web, namespace: a}
spec:
  host: web.foo.svc.cluster.local
  exportTo: ["."]
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web, namespace: b}
spec:
  host: web.foo.svc.cluster.local
  exportTo: ["."]
  subsets: [{name: v1, labels: {version: v2}}]
`

// TestSharedStoreKeepsSubsetsApart: subset "v1" means version v1 in namespace a and version
// v2 in b; translating one first must not give the other its endpoints.
func TestSharedStoreKeepsSubsetsApart(t *testing.T) {
	objs, problems := file.Decode("mesh.yaml", []byte(subsetMesh))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	want := map[string]string{"a": "10.0.0.1", "b": "10.0.0.2"}
	for _, order := range [][]string{{"a", "b"}, {"b", "a"}} {
		store := model.NewStore(model.Mesh{}, objs)
		for _, ns := range order {
			res, _ := translate.Proxy(translate.Inputs{Store: store, Proxy: model.Proxy{Role: model.RoleSidecar, Namespace: ns,
				ServiceAccount: "sleep", Labels: map[string]string{"app": "sleep"}, Interception: model.InterceptionTransparent}})
			got := ""
			for _, cla := range res.Endpoints {
				if cla.GetClusterName() == "outbound|8000|v1|web.foo.svc.cluster.local" {
					got = cla.GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetAddress()
				}
			}
			if got != want[ns] {
				t.Errorf("order %v: %s's subset v1 endpoint = %q, want %s", order, ns, got, want[ns])
			}
		}
	}
}

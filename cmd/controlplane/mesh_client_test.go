package main

import (
	"testing"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// TestMeshExampleClientSide checks what examples/mesh's sleep.foo sidecar originates (explain
// evaluates only the receiving side): auto mTLS marks endpoints with a sidecar "istio" and the
// legacy ones "disabled"; the mesh-wide ISTIO_MUTUAL DestinationRule puts mutual TLS on every
// cluster.
func TestMeshExampleClientSide(t *testing.T) {
	proxy, err := readNode("../../examples/mesh/sleep-foo-node.yaml")
	if err != nil {
		t.Fatal(err)
	}
	load := func(dirs ...string) translate.Resources {
		var objs []model.Object
		for _, d := range dirs {
			src, err := file.New(file.Options{Dir: "../../examples/mesh/" + d})
			if err != nil {
				t.Fatal(err)
			}
			s, _, err := src.Load()
			if err != nil {
				t.Fatal(err)
			}
			objs = append(objs, s.Objects()...)
		}
		res, _ := translate.Proxy(translate.Inputs{Store: model.NewStore(model.Mesh{}, objs), Proxy: proxy})
		return res
	}

	res := load("base")
	wantMode := map[string]string{
		"outbound|8000||httpbin.foo.svc.cluster.local":    "istio",
		"outbound|8000||httpbin.legacy.svc.cluster.local": "disabled",
	}
	for _, cla := range res.Endpoints {
		want, ok := wantMode[cla.GetClusterName()]
		if !ok {
			continue
		}
		for _, l := range cla.GetEndpoints() {
			for _, e := range l.GetLbEndpoints() {
				got := e.GetMetadata().GetFilterMetadata()["envoy.transport_socket_match"].GetFields()["tlsMode"].GetStringValue()
				if got != want {
					t.Errorf("%s endpoint tlsMode %q, want %q", cla.GetClusterName(), got, want)
				}
			}
		}
		delete(wantMode, cla.GetClusterName())
	}
	if len(wantMode) > 0 {
		t.Errorf("no endpoints for %v", wantMode)
	}
	for _, c := range res.Clusters {
		if c.GetName() == "outbound|8000||httpbin.foo.svc.cluster.local" && len(c.GetTransportSocketMatches()) != 2 {
			t.Errorf("%s: auto mTLS transport socket matches %v", c.GetName(), c.GetTransportSocketMatches())
		}
	}

	for _, c := range load("base", "6-mesh-istio-mutual").Clusters {
		if c.GetName() == "outbound|8000||httpbin.legacy.svc.cluster.local" && c.GetTransportSocket().GetName() != "envoy.transport_sockets.tls" {
			t.Errorf("%s: ISTIO_MUTUAL DestinationRule *.local did not apply (transport socket %v)", c.GetName(), c.GetTransportSocket())
		}
	}
}

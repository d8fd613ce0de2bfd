package envoy

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/snapshot"
)

// startControlPlane builds the binary, issues every sidecar's ADS client certificate from a
// new CA, writes the sidecars' bootstraps and runs `controlplane serve` on the watched
// directory with that CA and ADS over mutual TLS. It returns the bootstrap paths by workload
// and the proxies they describe by node id.
func (w *meshWorld) startControlPlane(t *testing.T) (map[string]string, map[string]*model.Proxy) {
	t.Helper()
	bin := buildControlplane(t, w.root)
	bootstraps, err := w.writeSidecarBootstraps(bin)
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string]*model.Proxy{}
	for name, path := range bootstraps {
		bs, err := readBootstrap(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n := bs.GetNode()
		p, err := model.ProxyFromNode(n.GetId(), n.GetCluster(), n.GetMetadata().AsMap())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		nodes[n.GetId()] = &p
	}
	start(t, bin, "", "serve", "--config", w.configDir, "--ca-dir", w.caDir, "--ads-server-name", "127.0.0.1",
		"--ads-addr", fmt.Sprintf("127.0.0.1:%d", w.adsPort), "--monitoring-addr", fmt.Sprintf("127.0.0.1:%d", w.monitoringPort))
	eventually(t, func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", w.monitoringPort))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return bootstraps, nodes
}

// checkProven: every sidecar proved the identity its node claims with its bootstrap's client
// certificate, so it is served its workload certificate.
func (w *meshWorld) checkProven(t *testing.T, nodes map[string]*model.Proxy) {
	t.Helper()
	var proxies []snapshot.ProxyStatus
	if err := w.debugJSON(t.Context(), "/debug/proxies", nil, &proxies); err != nil {
		t.Fatal(err)
	}
	for _, ps := range proxies {
		p := nodes[ps.NodeID]
		if p == nil {
			t.Errorf("unexpected proxy %s", ps.NodeID)
			continue
		}
		if want := p.Namespace + "/" + p.ServiceAccount; ps.Identity != want {
			t.Errorf("%s: proven identity %q (%s), want %q", ps.NodeID, ps.Identity, ps.IdentityNote, want)
		}
	}
	if len(proxies) != len(nodes) {
		t.Errorf("%d proxies connected, want %d", len(proxies), len(nodes))
	}
}

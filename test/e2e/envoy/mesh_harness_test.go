package envoy

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
)

// TestMeshExampleBootstraps runs without Envoy: the example's sidecar bootstraps parse as
// Envoy's bootstrap proto with no unknown field and pass its validation rules, and their node
// is one the control plane reads without complaint.
func TestMeshExampleBootstraps(t *testing.T) {
	root := repoRoot(t)
	for _, name := range []string{"bootstrap-mtls.yaml", "bootstrap-plaintext.yaml"} {
		bs, err := readBootstrap(filepath.Join(root, "examples/mesh", name))
		if err != nil {
			t.Fatal(err)
		}
		n := bs.GetNode()
		p, err := model.ProxyFromNode(n.GetId(), n.GetCluster(), n.GetMetadata().AsMap())
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if p.Interception != model.InterceptionExplicit || p.Role != model.RoleSidecar {
			t.Errorf("%s: proxy %+v, want an explicit-mode sidecar", name, p)
		}
	}
}

// TestExampleBootstrapsParse runs without Envoy: every examples/*/bootstrap*.yaml parses as
// Envoy's bootstrap proto with no unknown field and passes its validation rules; its node is
// read by the control plane as the role its directory is about; the delta bootstraps speak
// DELTA_GRPC and the others state-of-the-world GRPC; the ADS cluster is a static cluster.
func TestExampleBootstrapsParse(t *testing.T) {
	root := repoRoot(t)
	paths, err := filepath.Glob(filepath.Join(root, "examples", "*", "bootstrap*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 6 { // gateway and sidecar: ads and delta; mesh: mtls and plaintext
		t.Fatalf("found only %d example bootstraps: %v", len(paths), paths)
	}
	for _, path := range paths {
		rel, _ := filepath.Rel(root, path)
		t.Run(rel, func(t *testing.T) {
			bs, err := readBootstrap(path)
			if err != nil {
				t.Fatal(err)
			}
			n := bs.GetNode()
			p, err := model.ProxyFromNode(n.GetId(), n.GetCluster(), n.GetMetadata().AsMap())
			if err != nil {
				t.Errorf("node: %v", err)
			}
			wantRole := model.RoleSidecar
			if filepath.Base(filepath.Dir(path)) == "gateway" {
				wantRole = model.RoleGateway
			}
			if p.Role != wantRole {
				t.Errorf("node role %q, want %q", p.Role, wantRole)
			}
			ads := bs.GetDynamicResources().GetAdsConfig()
			wantAPI := corev3.ApiConfigSource_GRPC
			if strings.Contains(filepath.Base(path), "delta") {
				wantAPI = corev3.ApiConfigSource_DELTA_GRPC
			}
			if ads.GetApiType() != wantAPI {
				t.Errorf("ads_config api_type %v, want %v", ads.GetApiType(), wantAPI)
			}
			static := map[string]bool{}
			for _, c := range bs.GetStaticResources().GetClusters() {
				static[c.GetName()] = true
			}
			if len(ads.GetGrpcServices()) == 0 {
				t.Fatal("ads_config has no grpc_services")
			}
			for _, g := range ads.GetGrpcServices() {
				if name := g.GetEnvoyGrpc().GetClusterName(); !static[name] {
					t.Errorf("ADS cluster %q is not a static cluster", name)
				}
			}
		})
	}
}

// TestMeshReadmeMapsToHarness runs without Envoy: every request of examples/mesh/README.md
// maps to a caller, a server and ports this harness runs, and every step's files, moved to
// the harness's ports, load without problems and keep the example's port relations.
func TestMeshReadmeMapsToHarness(t *testing.T) {
	root := repoRoot(t)
	w := newMeshWorld(t, root)
	cases := loadMeshCases(t, root)
	steps, byStep := meshSteps(cases)
	for _, step := range steps {
		if err := w.applyStep(step); err != nil {
			t.Fatalf("step %s: %v", step, err)
		}
		src, err := file.New(file.Options{Dir: w.configDir})
		if err != nil {
			t.Fatal(err)
		}
		if _, problems, err := src.Load(); err != nil || len(problems) > 0 {
			t.Fatalf("step %s: moved files: %v %v", step, err, problems)
		}
		for _, c := range byStep[step] {
			r, err := w.request(c)
			if err != nil {
				t.Error(err)
				continue
			}
			t.Logf("%s: %v: GET http://%s%s Host %s via %q, want %v", step, c, r.addr, r.path, r.host, r.via, r.want)
		}
	}
	if len(w.sidecars()) != 4 {
		t.Errorf("sidecars %v, want httpbin and sleep in foo and bar", w.workloadNames())
	}
	checkWorldPorts(t, w)
}

// checkWorldPorts: the relations the example's ports have survive the move. httpbin's
// service port leads to its workload port in every namespace; step 4's portLevelMtls names
// httpbin.bar's workload port; all ports differ; 127.0.N.M can be bound.
func checkWorldPorts(t *testing.T, w *meshWorld) {
	t.Helper()
	seen := map[uint32]string{}
	claim := func(p uint32, what string) {
		if prev, dup := seen[p]; dup {
			t.Errorf("port %d is both %s and %s", p, prev, what)
		}
		seen[p] = what
	}
	claim(uint32(w.adsPort), "ADS")
	claim(uint32(w.monitoringPort), "monitoring")
	for readme, ours := range w.servicePorts {
		claim(ours, fmt.Sprintf("service port %d", readme))
	}
	for _, name := range w.workloadNames() {
		wl := w.workloads[name]
		sp, ok := wl.services[8000]
		if wl.app == "httpbin" && (!ok || sp.target != 8080 || sp.ourTarget != w.targetPorts[wl.namespace][8080]) {
			t.Errorf("%s: service port 8000 leads to %+v, want 8080 moved to %d", name, sp, w.targetPorts[wl.namespace][8080])
		}
		if wl.app == "httpbin" {
			claim(sp.ourTarget, name+" workload port")
		}
		for target, listen := range wl.inbound {
			if wl.sidecar && (listen == 0 || target == listen) {
				t.Errorf("%s: inbound %d listens on %d", name, target, listen)
			}
			if wl.sidecar {
				claim(listen, name+" inbound listener")
			}
		}
		l, err := net.Listen("tcp", net.JoinHostPort(wl.address, "0"))
		if err != nil {
			t.Fatalf("%s: the harness needs every 127.0.0.0/8 address on loopback (Linux has them): %v", name, err)
		}
		l.Close()
	}
}

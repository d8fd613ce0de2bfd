package envoy

import (
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// meshWorld runs examples/mesh on one host, without iptables or root. Every port the example
// names moves to a free one: each service port (httpbin's 8000, sleep's 80) to one port for
// all namespaces, each workload port (httpbin's 8080) to one port per namespace, because every
// httpbin application listens on 127.0.0.1 behind its sidecar. Pod addresses 10.0.N.M become
// 127.0.N.M (all of 127/8 is loopback on Linux), where a forwarder stands in for the pod's
// iptables REDIRECT and sends connections on to the sidecar's inbound listener.
type meshWorld struct {
	root, dir, configDir, caDir string
	adsPort, monitoringPort     int

	ports        portAllocator
	servicePorts map[uint32]uint32            // README service port → ours
	targetPorts  map[string]map[uint32]uint32 // namespace → README workload port → ours
	workloads    map[string]*workload         // "httpbin.foo"
}

// workload is one pod of the example, as the base WorkloadEntries and ServiceEntries say.
type workload struct {
	app, namespace, serviceAccount string
	address                        string                 // 127.0.N.M
	sidecar                        bool                   // security.istio.io/tlsMode: istio
	host                           string                 // the ServiceEntry host selecting it
	services                       map[uint32]servicePort // by README service port
	inbound                        map[uint32]uint32      // our workload port → the sidecar's listen port
	adminPort                      int
}

// servicePort is where a service port of the README leads: the workload port there, and ours.
type servicePort struct{ target, ourTarget uint32 }

func (w *workload) name() string { return w.app + "." + w.namespace }

func newMeshWorld(t *testing.T, root string) *meshWorld {
	t.Helper()
	dir := t.TempDir()
	w := &meshWorld{root: root, dir: dir, configDir: filepath.Join(dir, "config"), caDir: filepath.Join(dir, "ca"),
		ports: portAllocator{t: t, used: map[int]bool{}}, servicePorts: map[uint32]uint32{},
		targetPorts: map[string]map[uint32]uint32{}, workloads: map[string]*workload{}}
	w.adsPort, w.monitoringPort = w.ports.next(), w.ports.next()
	if err := os.MkdirAll(w.configDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := w.applyStep("0-base"); err != nil {
		t.Fatal(err)
	}
	for _, name := range w.workloadNames() {
		wl := w.workloads[name]
		if !wl.sidecar {
			continue
		}
		wl.adminPort = w.ports.next()
		for _, tp := range slices.Sorted(maps.Keys(wl.inbound)) {
			wl.inbound[tp] = uint32(w.ports.next())
		}
	}
	return w
}

// applyStep makes the watched directory hold base/ and the step's directories, each file
// renamed "<dir>-<file>" and rewritten to this world's ports and addresses. Files of the
// previous step that the new one lacks are removed.
func (w *meshWorld) applyStep(step string) error {
	want := map[string][]byte{}
	for _, d := range append([]string{"base"}, stepDirs(step)...) {
		files, err := filepath.Glob(filepath.Join(w.root, "examples/mesh", d, "*.yaml"))
		if err != nil || len(files) == 0 {
			return fmt.Errorf("step %q: no YAML in examples/mesh/%s (%v)", step, d, err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			out, err := w.rewrite(data, d == "base")
			if err != nil {
				return fmt.Errorf("examples/mesh/%s/%s: %w", d, filepath.Base(f), err)
			}
			want[d+"-"+filepath.Base(f)] = out
		}
	}
	old, _ := filepath.Glob(filepath.Join(w.configDir, "*.yaml"))
	for _, f := range old {
		if _, keep := want[filepath.Base(f)]; !keep {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	for name, data := range want {
		if cur, err := os.ReadFile(filepath.Join(w.configDir, name)); err == nil && string(cur) == string(data) {
			continue
		}
		if err := os.WriteFile(filepath.Join(w.configDir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (w *meshWorld) workloadNames() []string { return slices.Sorted(maps.Keys(w.workloads)) }

func (w *meshWorld) sidecars() []*workload {
	var out []*workload
	for _, n := range w.workloadNames() {
		if w.workloads[n].sidecar {
			out = append(out, w.workloads[n])
		}
	}
	return out
}

func (w *meshWorld) servicePort(p uint32) uint32 {
	if _, ok := w.servicePorts[p]; !ok {
		w.servicePorts[p] = uint32(w.ports.next())
	}
	return w.servicePorts[p]
}

func (w *meshWorld) targetPort(ns string, p uint32) uint32 {
	if w.targetPorts[ns] == nil {
		w.targetPorts[ns] = map[uint32]uint32{}
	}
	if _, ok := w.targetPorts[ns][p]; !ok {
		w.targetPorts[ns][p] = uint32(w.ports.next())
	}
	return w.targetPorts[ns][p]
}

// loopbackAddress moves a pod address 10.0.N.M to 127.0.N.M.
func loopbackAddress(addr string) (string, error) {
	rest, ok := strings.CutPrefix(addr, "10.")
	if ip := net.ParseIP(addr); !ok || ip == nil || ip.To4() == nil {
		return "", fmt.Errorf("address %q: the harness moves only 10.0.0.0/8 pod addresses to loopback", addr)
	}
	return "127." + rest, nil
}

// portAllocator hands out distinct free ports on 127.0.0.1.
type portAllocator struct {
	t    *testing.T
	used map[int]bool
}

func (a *portAllocator) next() int {
	for {
		p := freePort(a.t)
		if !a.used[p] {
			a.used[p] = true
			return p
		}
	}
}

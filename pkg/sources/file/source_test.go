package file

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// writeFiles writes name → content under dir, creating directories.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func policy(name string) string {
	return fmt.Sprintf("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: %s, namespace: ns}\nspec: {mtls: {mode: STRICT}}\n", name)
}

func newTestSource(t testing.TB, dir string) *Source {
	t.Helper()
	s, err := New(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// summary renders a store as "Kind ns/name order origin" lines.
func summary(store *model.Store) []string {
	var out []string
	for _, o := range store.Objects() {
		m := o.ObjectMeta()
		out = append(out, fmt.Sprintf("%s %s %d %s", m.Kind, m.Key(), m.Order, m.Origin))
	}
	return out
}

func problemStrings(ps []model.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func TestLoadOrderDuplicatesAndValidation(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"b.yaml":      policy("p2") + "---\n" + policy("p1"),
		"a/x.yaml":    policy("p3"),
		"a.yaml":      policy("p1"),
		"gw.yml":      "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec: {}\n",
		"cm.json":     `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}`,
		"notes.txt":   "not read",
		".hidden.yml": "not: read",
		"a.yaml~":     "not: read",
	})
	store, problems, err := newTestSource(t, dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	wantObjs := []string{
		"PeerAuthentication ns/p1 0 a.yaml:1",
		"PeerAuthentication ns/p2 2 b.yaml:1",
		"PeerAuthentication ns/p3 1 a/x.yaml:1",
		"Gateway default/gw 3 gw.yml:1",
	}
	if diff := cmp.Diff(wantObjs, summary(store)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	wantProblems := []string{
		"b.yaml:6: PeerAuthentication ns/p1: metadata.name: duplicate of the PeerAuthentication ns/p1 defined at a.yaml:1; this one is ignored",
		"cm.json:1: ConfigMap default/cm: kind: warning: kind ConfigMap (v1) is not read by this control plane; skipped",
		"gw.yml:4: Gateway default/gw: spec.servers: gateway must have at least one server",
	}
	if diff := cmp.Diff(wantProblems, problemStrings(problems)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestLoadPartlyBadFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.yaml": policy("good") + "---\n" + strings.Replace(policy("bad"), "mtls", "mtsl", 1)})
	store, problems, err := newTestSource(t, dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	// The undecodable PeerAuthentication is replaced by a STRICT stand-in (fail closed).
	if diff := cmp.Diff([]string{"PeerAuthentication ns/bad 1 a.yaml:6", "PeerAuthentication ns/good 0 a.yaml:1"}, summary(store)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	want := []string{`a.yaml:9: PeerAuthentication ns/bad: spec.mtsl: unknown field "mtsl"; enforced as a fail-closed stand-in until fixed`}
	if diff := cmp.Diff(want, problemStrings(problems)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without Dir: want error")
	}
	if _, _, err := newTestSource(t, filepath.Join(t.TempDir(), "missing")).Load(); err == nil {
		t.Error("Load of a missing directory: want error")
	}
}

func TestStateKeepsLastGood(t *testing.T) {
	st := newState(model.Mesh{})
	good := decodeFile("a.yaml", []byte(policy("p")))
	st.update("a.yaml", nil, good)
	bad := decodeFile("a.yaml", []byte("spec: [\n"))
	st.update("a.yaml", nil, bad)
	store, problems, _ := st.build()
	problems = model.SortProblems(problems)
	if diff := cmp.Diff([]string{"PeerAuthentication ns/p 0 a.yaml:1"}, summary(store)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	want := []string{
		"a.yaml: warning: keeping the last good content of this file until it is fixed",
		"a.yaml:2: invalid YAML: did not find expected node content",
	}
	if diff := cmp.Diff(want, problemStrings(problems)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestOrderCopiesPublishedObjects(t *testing.T) {
	st := newState(model.Mesh{})
	st.update("b.yaml", nil, decodeFile("b.yaml", []byte(policy("b"))))
	first, _, _ := st.build()
	st.update("a.yaml", nil, decodeFile("a.yaml", []byte(policy("a"))))
	second, _, _ := st.build()
	if got := first.PeerAuthentications[0].Order; got != 0 {
		t.Errorf("published object changed: order %d, want 0", got)
	}
	if got := second.PeerAuthentications[1].Order; got != 1 {
		t.Errorf("b.yaml order in new store = %d, want 1", got)
	}
}

// metricValue reads one gauge or counter from reg (prometheus/testutil's diff dependency is
// not in go.sum).
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i, lp := range m.GetLabel() {
				if i*2+1 >= len(labels) || lp.GetName() != labels[i*2] || lp.GetValue() != labels[i*2+1] {
					continue metrics
				}
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s%v", name, labels)
	return 0
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(Options{Dir: t.TempDir(), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore(model.Mesh{}, nil)
	s.metrics.record(store, []model.Problem{{Kind: "ConfigMap", Severity: model.SeverityWarning}, {Kind: model.KindGateway}})
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"controlplane_config_problems", []string{"kind", "other", "severity", "warning"}, 1},
		{"controlplane_config_problems", []string{"kind", "Gateway", "severity", "error"}, 1},
		{"controlplane_config_problems", []string{"kind", "Gateway", "severity", "warning"}, 0},
		{"controlplane_config_reloads_total", []string{"result", reloadProblems}, 1},
		{"controlplane_config_reloads_total", []string{"result", reloadOK}, 0},
		{"controlplane_config_objects", []string{"kind", "Secret"}, 0},
	} {
		if got := metricValue(t, reg, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

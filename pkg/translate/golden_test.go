package translate_test

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/render"
	"github.com/plainenvoy/controlplane/pkg/snapshot"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

var update = flag.Bool("update", false, "rewrite golden files (testdata/*.out.yaml) and delete orphans")

// goldenHeader is the first document of a testdata/<case>.in.yaml: the node the proxy presents,
// mesh settings and fetched key sets. The documents after it are ordinary Istio objects.
type goldenHeader struct {
	Node struct {
		ID       string         `json:"id"`
		Cluster  string         `json:"cluster"`
		Metadata map[string]any `json:"metadata"`
	} `json:"node"`
	Mesh     model.Mesh                   `json:"mesh"`
	Keys     map[string]string            `json:"keys"`
	ExtAuthz []translate.ExtAuthzProvider `json:"extAuthz"`
}

// loadCase reads a golden input. Objects are decoded by the file source's decoder, so the
// problems in golden output carry the same file:line a user would see.
func loadCase(t testing.TB, path string) (translate.Inputs, []model.Problem) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, rest, ok := bytes.Cut(data, []byte("\n---\n"))
	if !ok {
		t.Fatalf("%s: want a header document, then '---', then objects", path)
	}
	var h goldenHeader
	if err := yaml.UnmarshalStrict(head, &h); err != nil {
		t.Fatalf("%s: header: %v", path, err)
	}
	// Blank out the header so object line numbers stay those of the file.
	blank := bytes.Repeat([]byte("\n"), bytes.Count(head, []byte("\n"))+2)
	objs, problems := file.Decode(filepath.Base(path), append(blank, rest...))
	proxy, err := model.ProxyFromNode(h.Node.ID, h.Node.Cluster, h.Node.Metadata)
	if err != nil {
		problems = append(problems, model.Problem{Reason: err.Error()})
	}
	keys := map[string]model.KeySet{}
	for src, js := range h.Keys {
		keys[src] = model.KeySet{Source: src, JSON: js}
	}
	return translate.Inputs{Store: model.NewStore(h.Mesh, objs), Proxy: proxy, Keys: keys, ExtAuthz: h.ExtAuthz}, problems
}

// TestGolden translates every testdata/*.in.yaml and compares with its .out.yaml.
func TestGolden(t *testing.T) {
	ins, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) == 0 {
		t.Fatal("no golden cases in testdata")
	}
	// Every case's proxy, to translate against each other case's store first (checkSharedStore).
	var proxies []model.Proxy
	for _, in := range ins {
		inputs, _ := loadCase(t, in)
		proxies = append(proxies, inputs.Proxy)
	}
	want := map[string]bool{}
	for _, in := range ins {
		out := strings.TrimSuffix(in, ".in.yaml") + ".out.yaml"
		want[out] = true
		t.Run(strings.TrimSuffix(filepath.Base(in), ".in.yaml"), func(t *testing.T) {
			t.Parallel()
			inputs, decodeProblems := loadCase(t, in)
			res, problems := translate.Proxy(inputs)
			validateAll(t, res)
			if err := snapshot.Check(res); err != nil {
				t.Errorf("the serving layer would refuse this configuration: %v", err)
			}
			got, err := render.YAML(res, model.SortProblems(append(decodeProblems, problems...)))
			if err != nil {
				t.Fatal(err)
			}
			checkDeterministic(t, inputs, got, decodeProblems)
			checkSharedStore(t, inputs, proxies, got, decodeProblems)
			if *update {
				if err := os.WriteFile(out, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantBytes, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run go test ./pkg/translate -update)", err)
			}
			if !bytes.Equal(got, wantBytes) {
				t.Errorf("%s differs from translation (-want +got):\n%s", out, lineDiff(string(wantBytes), string(got)))
			}
		})
	}
	if *update {
		outs, _ := filepath.Glob("testdata/*.out.yaml")
		for _, o := range outs {
			if !want[o] {
				_ = os.Remove(o)
			}
		}
	}
}

// checkDeterministic translates again from a shuffled object order and requires equal bytes.
func checkDeterministic(t *testing.T, in translate.Inputs, want []byte, decodeProblems []model.Problem) {
	t.Helper()
	objs := in.Store.Objects()
	rand.Shuffle(len(objs), func(i, j int) { objs[i], objs[j] = objs[j], objs[i] })
	in.Store = model.NewStore(in.Store.Mesh, objs)
	res, problems := translate.Proxy(in)
	got, err := render.YAML(res, model.SortProblems(append(decodeProblems, problems...)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("translation depends on input order (-first +shuffled):\n%s", lineDiff(string(want), string(got)))
	}
}

// checkSharedStore translates the case's proxy from a store that every other case's proxy was
// translated from first, as the serving layer translates all groups from one store: what
// translation derives from a store and shares between proxies (the service registry, load
// assignments) must not change any proxy's configuration.
func checkSharedStore(t *testing.T, in translate.Inputs, others []model.Proxy, want []byte, decodeProblems []model.Problem) {
	t.Helper()
	in.Store = model.NewStore(in.Store.Mesh, in.Store.Objects())
	for _, p := range others {
		other := in
		other.Proxy = p
		translate.Proxy(other)
	}
	res, problems := translate.Proxy(in)
	got, err := render.YAML(res, model.SortProblems(append(decodeProblems, problems...)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("translation changes when other proxies were translated from the same store first (-alone +shared):\n%s",
			lineDiff(string(want), string(got)))
	}
}

func validateAll(t *testing.T, r translate.Resources) {
	t.Helper()
	type validator interface{ ValidateAll() error }
	check := func(kind string, name string, v validator) {
		if err := v.ValidateAll(); err != nil {
			t.Errorf("%s %q fails ValidateAll: %v", kind, name, err)
		}
	}
	for _, x := range r.Listeners {
		check("listener", x.GetName(), x)
	}
	for _, x := range r.Routes {
		check("route", x.GetName(), x)
	}
	for _, x := range r.Clusters {
		check("cluster", x.GetName(), x)
	}
	for _, x := range r.Endpoints {
		check("endpoints", x.GetClusterName(), x)
	}
	for _, x := range r.Secrets {
		check("secret", x.GetName(), x)
	}
}

// lineDiff is a small line-oriented diff: enough to read a golden mismatch.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	i, j := 0, 0
	for i < len(al) || j < len(bl) {
		switch {
		case i < len(al) && j < len(bl) && al[i] == bl[j]:
			i++
			j++
		case j < len(bl) && (i >= len(al) || !contains(al[i:], bl[j])):
			fmt.Fprintf(&out, "+%4d %s\n", j+1, bl[j])
			j++
		default:
			fmt.Fprintf(&out, "-%4d %s\n", i+1, al[i])
			i++
		}
	}
	return out.String()
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

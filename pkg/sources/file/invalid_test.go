package file

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plainenvoy/controlplane/pkg/model"
)

var update = flag.Bool("update", false, "rewrite testdata/invalid/expected.txt")

// invalidDir holds one malformed example per kind of problem; expected.txt pins what
// `controlplane validate` prints for them.
const invalidDir = "../../../testdata/invalid"

// TestInvalidExamples checks that every example is reported with its file, a line, the
// object (when the YAML parses far enough to name one) and a field or reason.
func TestInvalidExamples(t *testing.T) {
	s, err := New(Options{Dir: invalidDir})
	if err != nil {
		t.Fatal(err)
	}
	_, problems, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	byFile := map[string][]model.Problem{}
	for _, p := range problems {
		byFile[p.Origin.File] = append(byFile[p.Origin.File], p)
	}
	files, err := filepath.Glob(filepath.Join(invalidDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		ps := byFile[name]
		if len(ps) == 0 {
			t.Errorf("%s: no problem reported", name)
			continue
		}
		for _, p := range ps {
			syntax := strings.HasPrefix(p.Reason, "invalid YAML")
			if p.Origin.Line == 0 && p.Field != "" {
				t.Errorf("%s: no line: %s", name, p)
			}
			if p.Kind == "" && !syntax && p.Reason != "apiVersion and kind must be set" {
				t.Errorf("%s: no object: %s", name, p)
			}
			if p.Reason == "" {
				t.Errorf("%s: no reason: %s", name, p)
			}
		}
	}

	var got strings.Builder
	for _, p := range problems {
		got.WriteString(p.String() + "\n")
	}
	golden := filepath.Join(invalidDir, "expected.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got.String()); diff != "" {
		t.Errorf("problems differ from %s (-want +got; rerun with -update if intended):\n%s", golden, diff)
	}
}

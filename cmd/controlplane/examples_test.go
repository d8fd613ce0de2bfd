package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/examples/*.out.yaml")

// TestExamplesTranslate pins `controlplane translate` on every example that ships a node file:
// the output a user gets from the README's commands is reviewed in diffs like any golden file.
func TestExamplesTranslate(t *testing.T) {
	nodes, err := filepath.Glob("../../examples/*/node*.yaml")
	if err != nil || len(nodes) == 0 {
		t.Fatalf("no example node files found (err %v)", err)
	}
	for _, node := range nodes {
		dir := filepath.Dir(node)
		name := filepath.Base(dir) + "-" + trimExt(filepath.Base(node))
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			cmd := newRootCommand()
			cmd.SetOut(&out)
			cmd.SetErr(&errOut)
			cmd.SetArgs([]string{"translate", "--config", dir, "--node", node})
			if err := cmd.Execute(); err != nil {
				t.Fatalf("translate: %v\n%s", err, errOut.String())
			}
			golden := filepath.Join("testdata", "examples", name+".out.yaml")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/controlplane -update)", err)
			}
			if !bytes.Equal(want, out.Bytes()) {
				t.Errorf("translate output for %s differs from %s; rerun with -update and review the diff", dir, golden)
			}
		})
	}
}

func trimExt(s string) string { return s[:len(s)-len(filepath.Ext(s))] }

package main

import (
	"strings"
	"testing"
)

const meshReadme = "examples/mesh/README.md"

// meshRow is one row of examples/mesh/README.md: a request from a caller to a server's
// sidecar.
type meshRow struct {
	step                              string // the heading: policy directories joined by " + "
	caller, server, request, want, by string
	line                              int
}

// TestExplainMeshExample runs every row of the authentication-policy example through explain
// against the server's sidecar: the README is the specification.
func TestExplainMeshExample(t *testing.T) {
	t.Chdir("../..")
	rows := readMeshRows(t, meshReadme)
	if len(rows) < 20 {
		t.Fatalf("found %d rows in %s; the tables were not parsed", len(rows), meshReadme)
	}
	for _, r := range rows {
		t.Run(r.step+"/"+r.caller+"->"+r.server, func(t *testing.T) {
			args, err := shellWords(r.request)
			if err != nil {
				t.Fatalf("%s:%d: %v", meshReadme, r.line, err)
			}
			if r.caller == "sleep.legacy" && strings.Contains(r.request, "--peer") {
				t.Fatalf("%s:%d: sleep.legacy has no sidecar and no certificate to present", meshReadme, r.line)
			}
			out, code := runExplainArgs(t, meshArgs(r, args)...)
			by := out.By()
			if by == "" {
				by = "—"
			}
			if out.Result() != r.want || by != r.by {
				t.Errorf("%s:%d: got result %q decided by %q, README says %q by %q\ntrace: %+v",
					meshReadme, r.line, out.Result(), by, r.want, r.by, out.Trace)
			}
			if want := map[bool]int{true: explainAllowed, false: explainDenied}[out.Allowed]; code != want {
				t.Errorf("exit status %d, want %d", code, want)
			}
		})
	}
}

// meshArgs: the base, the step's policy directories, and the server's node.
func meshArgs(r meshRow, request []string) []string {
	args := []string{"--config", "examples/mesh/base", "-o", "json",
		"--node", "examples/mesh/" + strings.ReplaceAll(r.server, ".", "-") + "-node.yaml"}
	for _, dir := range meshStepDirs(r.step) {
		args = append(args, "--policies", dir)
	}
	return append(args, request...)
}

func meshStepDirs(step string) []string {
	var dirs []string
	for _, d := range strings.Split(step, " + ") {
		if d = strings.TrimSpace(d); d != "0-base" {
			dirs = append(dirs, "examples/mesh/"+d)
		}
	}
	return dirs
}

// readMeshRows reads the tables under each "### <step>" heading:
// | caller | server | `request` | result | decided by |.
func readMeshRows(t *testing.T, path string) []meshRow {
	t.Helper()
	var rows []meshRow
	for _, tr := range readTableRows(t, path, "| sleep.") {
		c := tr.cells
		if len(c) != 5 {
			t.Fatalf("%s:%d: want 5 cells, got %d", path, tr.line, len(c))
		}
		rows = append(rows, meshRow{step: tr.step, line: tr.line, caller: c[0], server: c[1],
			request: strings.Trim(c[2], "`"), want: c[3], by: c[4]})
	}
	return rows
}

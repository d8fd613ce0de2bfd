package main

import (
	"bufio"
	"os"
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
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []meshRow
	step := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if s, ok := strings.CutPrefix(line, "### "); ok {
			step = strings.TrimSpace(s)
			continue
		}
		if step == "" || !strings.HasPrefix(line, "| sleep.") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		r := meshRow{step: step, line: n, caller: cells[0], server: cells[1]}
		switch len(cells) {
		case 5:
			r.request, r.want, r.by = strings.Trim(cells[2], "`"), cells[3], cells[4]
		default:
			t.Fatalf("%s:%d: want 5 cells, got %d", path, n, len(cells))
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/plainenvoy/controlplane/pkg/explain"
)

const (
	authzReadme = "examples/authz/README.md"
	sampleJWKS  = "https://raw.githubusercontent.com/istio/istio/release-1.31/security/tools/jwt/samples/jwks.json=pkg/explain/testdata/istio-samples/jwks.json"
)

// exampleRow is one row of a step's table in examples/authz/README.md.
type exampleRow struct {
	step, request, result, by string
	line                      int
}

// TestExplainExamples runs every row of the authorization examples' README: the table is the
// specification, and explain (over the translator's real output) must agree with each row.
func TestExplainExamples(t *testing.T) {
	t.Chdir("../..")
	rows := readExampleRows(t, authzReadme)
	if len(rows) < 20 {
		t.Fatalf("found %d rows in %s; the tables were not parsed", len(rows), authzReadme)
	}
	for _, r := range rows {
		t.Run(r.step+"/"+strings.ReplaceAll(r.request, " ", "_"), func(t *testing.T) {
			args, err := shellWords(r.request)
			if err != nil {
				t.Fatalf("%s:%d: %v", authzReadme, r.line, err)
			}
			out, code := runExplainArgs(t, exampleArgs(r.step, args)...)
			by := out.By()
			if by == "" {
				by = "—"
			}
			if out.Result() != r.result || by != r.by {
				t.Errorf("%s:%d: got result %q decided by %q, README says %q by %q\ntrace: %+v",
					authzReadme, r.line, out.Result(), by, r.result, r.by, out.Trace)
			}
			if want := map[bool]int{true: explainAllowed, false: explainDenied}[out.Allowed]; code != want {
				t.Errorf("exit status %d, want %d", code, want)
			}
		})
	}
}

// TestExplainDenyOrigin: a denial by a DENY policy names the policy and the file:line where it
// is defined, in the JSON and in the text output.
func TestExplainDenyOrigin(t *testing.T) {
	t.Chdir("../..")
	args := exampleArgs("3-deny-header", []string{"--port", "8080", "--path", "/ip"})
	out, code := runExplainArgs(t, args...)
	d := out.Decision
	if code != explainDenied || d == nil || d.Ref == nil {
		t.Fatalf("want a denial by a policy, got exit %d, decision %+v", code, d)
	}
	want := explain.Decision{
		Filter: "envoy.filters.http.rbac", Policy: "ns[foo]-policy[deny-method-get]-rule[0]",
		Ref:    &explain.PolicyRef{Namespace: "foo", Name: "deny-method-get"},
		Origin: "examples/authz/3-deny-header/deny-method-get.yaml:2", Reason: "DENY policy matched",
	}
	if *d.Ref != *want.Ref || d.Filter != want.Filter || d.Policy != want.Policy || d.Origin != want.Origin || d.Reason != want.Reason {
		t.Errorf("decision %+v (ref %+v), want %+v (ref %+v)", *d, *d.Ref, want, *want.Ref)
	}
	var stdout, stderr bytes.Buffer
	cmd := newRootCommand()
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(append(append([]string{"explain"}, args...), "-o", "text"))
	_ = cmd.Execute()
	for _, s := range []string{"verdict:    403 RBAC: access denied", "defined at: examples/authz/3-deny-header/deny-method-get.yaml:2",
		"AuthorizationPolicy foo/deny-method-get rules[0]"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("text output lacks %q:\n%s", s, stdout.String())
		}
	}
}

// TestExplainUsage: bad flags exit 2 and say why, without evaluating anything.
func TestExplainUsage(t *testing.T) {
	t.Chdir("../..")
	base := []string{"explain", "--config", "examples/authz/base", "--node", "examples/authz/httpbin-node.yaml"}
	for name, extra := range map[string][]string{
		"no port":          {},
		"bad header":       {"--port", "8080", "-H", "no-colon"},
		"jwt and claims":   {"--port", "8080", "--jwt", "x", "--claims", "{}"},
		"claims not json":  {"--port", "8080", "--claims", "[1]"},
		"bad ext-authz":    {"--port", "8080", "--ext-authz", "maybe"},
		"bad source ip":    {"--port", "8080", "--source-ip", "host"},
		"bad output":       {"--port", "8080", "-o", "yaml"},
		"missing --config": {"--port", "8080", "--config", ""},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := newRootCommand()
			cmd.SetOut(&stdout)
			cmd.SetErr(&stderr)
			cmd.SetArgs(append(append([]string{}, base...), extra...))
			err := cmd.Execute()
			var ee exitError
			if !errors.As(err, &ee) || ee.code != explainUsage || !strings.Contains(stderr.String(), "explain:") {
				t.Errorf("got %v (stderr %q), want exit %d with a reason", err, stderr.String(), explainUsage)
			}
		})
	}
}

func exampleArgs(step string, request []string) []string {
	args := []string{"--config", "examples/authz/base", "--node", "examples/authz/httpbin-node.yaml",
		"--policies", "examples/authz/" + step, "-o", "json"}
	if strings.Contains(step, "jwt") {
		args = append(args, "--jwks", sampleJWKS)
	}
	return append(args, request...)
}

// runExplainArgs runs `controlplane explain ARGS -o json` and decodes the outcome.
func runExplainArgs(t *testing.T, args ...string) (explain.Outcome, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := newRootCommand()
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(append([]string{"explain"}, args...))
	code := 0
	if err := cmd.Execute(); err != nil {
		var ee exitError
		if !errors.As(err, &ee) {
			t.Fatalf("explain: %v\n%s", err, stderr.String())
		}
		code = ee.code
	}
	var out explain.Outcome
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("explain exit %d: output is not an outcome: %v\nstdout: %s\nstderr: %s", code, err, stdout.String(), stderr.String())
	}
	return out, code
}

// tableRow is one row of a table under a "### <step>" heading of an example README.
type tableRow struct {
	step  string
	line  int
	cells []string // trimmed
}

// readTableRows reads the rows, under "### <step>" headings, that start with prefix.
func readTableRows(t *testing.T, path, prefix string) []tableRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []tableRow
	step := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if s, ok := strings.CutPrefix(line, "### "); ok {
			step = strings.TrimSpace(s)
			continue
		}
		if step == "" || !strings.HasPrefix(line, prefix) {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, tableRow{step: step, line: n, cells: cells})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// readExampleRows reads the tables under each "### <step>" heading: | `request` | result | by |.
func readExampleRows(t *testing.T, path string) []exampleRow {
	t.Helper()
	var rows []exampleRow
	for _, r := range readTableRows(t, path, "| `") {
		if len(r.cells) != 3 {
			continue
		}
		rows = append(rows, exampleRow{step: r.step, line: r.line, request: strings.Trim(r.cells[0], "`"), result: r.cells[1], by: r.cells[2]})
	}
	return rows
}

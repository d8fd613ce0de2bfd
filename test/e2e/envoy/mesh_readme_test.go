package envoy

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// meshCase is one request of examples/mesh/README.md, the table that cmd/controlplane's
// TestExplainMeshExample also runs: the README is the one specification both suites read.
// Table rows describe the connection as it arrives at the server's pod (port = workload
// port); the lists under some tables say what the caller's sidecar originates to a service
// (port = service port).
type meshCase struct {
	step           string // the heading: policy directories joined by " + "
	line           int
	caller, server string // "sleep.foo", "httpbin.bar"
	port           uint32
	listItem       bool   // port is the service port; mode says what the caller's sidecar sends
	path, peer     string // table rows: --path and --peer
	want           string // table rows: result ("allowed", "connection closed", "403 RBAC: ...")
	mode           string // list items: "auto mTLS", "mutual TLS" or "plaintext"
}

func (c meshCase) String() string {
	return fmt.Sprintf("README.md:%d %s->%s:%d", c.line, c.caller, c.server, c.port)
}

// listItem: "- sleep.foo → httpbin.legacy:8000: auto mTLS".
var listItem = regexp.MustCompile(`^- (\S+) → (\S+):(\d+): (.+)$`)

// readMeshCases reads every "### <step>" section of the README in order: its table rows
// ("| caller | server | `request` | result | decided by |") and its list items.
func readMeshCases(path string) ([]meshCase, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cases []meshCase
	step := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "### "):
			step = strings.TrimSpace(strings.TrimPrefix(line, "### "))
		case strings.HasPrefix(line, "## "):
			step = ""
		case step == "":
		case strings.HasPrefix(line, "| sleep."):
			c, err := tableCase(step, n, line)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, n, err)
			}
			cases = append(cases, c)
		case listItem.MatchString(line):
			m := listItem.FindStringSubmatch(line)
			port, _ := strconv.ParseUint(m[3], 10, 16)
			cases = append(cases, meshCase{step: step, line: n, caller: m[1], server: m[2],
				port: uint32(port), listItem: true, path: "/ip", mode: m[4]})
		}
	}
	return cases, sc.Err()
}

func tableCase(step string, n int, line string) (meshCase, error) {
	cells := strings.Split(strings.Trim(line, "|"), " | ")
	if len(cells) != 5 {
		return meshCase{}, fmt.Errorf("want 5 cells, got %d", len(cells))
	}
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	c := meshCase{step: step, line: n, caller: cells[0], server: cells[1], want: cells[3]}
	words := strings.Fields(strings.Trim(cells[2], "`"))
	for i := 0; i < len(words); i += 2 {
		if i+1 == len(words) {
			return c, fmt.Errorf("flag %s has no value", words[i])
		}
		switch v := words[i+1]; words[i] {
		case "--port":
			p, err := strconv.ParseUint(v, 10, 16)
			if err != nil {
				return c, fmt.Errorf("--port %q: %w", v, err)
			}
			c.port = uint32(p)
		case "--path":
			c.path = v
		case "--peer":
			c.peer = v
		default:
			return c, fmt.Errorf("request flag %s: the Envoy suite cannot send it", words[i])
		}
	}
	if c.port == 0 || c.path == "" {
		return c, fmt.Errorf("request %q needs --port and --path", cells[2])
	}
	return c, nil
}

// stepDirs are the policy directories a step heading lays over base/, in order.
func stepDirs(step string) []string {
	var dirs []string
	for _, d := range strings.Split(step, " + ") {
		if d = strings.TrimSpace(d); d != "0-base" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// meshSteps groups the cases by step, in README order.
func meshSteps(cases []meshCase) (steps []string, byStep map[string][]meshCase) {
	byStep = map[string][]meshCase{}
	for _, c := range cases {
		if _, ok := byStep[c.step]; !ok {
			steps = append(steps, c.step)
		}
		byStep[c.step] = append(byStep[c.step], c)
	}
	return steps, byStep
}

func loadMeshCases(t *testing.T, root string) []meshCase {
	t.Helper()
	cases, err := readMeshCases(filepath.Join(root, "examples/mesh/README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 40 {
		t.Fatalf("found %d requests in examples/mesh/README.md; the tables were not parsed", len(cases))
	}
	return cases
}

package file

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plainenvoy/controlplane/pkg/model"
)

type published struct {
	store    *model.Store
	problems []string
}

// runSource runs a Source on dir until the test ends, then checks that Run returned and
// left no goroutine behind. Watch tests do not run in parallel, so the check is exact.
func runSource(t *testing.T, dir string, debounce time.Duration) <-chan published {
	t.Helper()
	s, err := New(Options{Dir: dir, Debounce: debounce})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ch := make(chan published, 100)
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, func(store *model.Store, ps []model.Problem) {
			select {
			case ch <- published{store, problemStrings(ps)}:
			case <-ctx.Done():
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
		checkNoGoroutines(t, "fsnotify", "sources/file.(*Source).Run")
	})
	return ch
}

func checkNoGoroutines(t *testing.T, needles ...string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		leaked := slices.ContainsFunc(needles, func(n string) bool { return strings.Contains(stacks, n) })
		if !leaked {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left behind:\n%s", stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitFor returns the first publication that satisfies ok.
func waitFor(t *testing.T, ch <-chan published, what string, ok func(published) bool) published {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case p := <-ch:
			if ok(p) {
				return p
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func names(p published) []string {
	var out []string
	for _, pa := range p.store.PeerAuthentications {
		out = append(out, pa.Name)
	}
	return out
}

func hasNames(want ...string) func(published) bool {
	return func(p published) bool { return slices.Equal(names(p), want) }
}

func TestRunWriteModifyRenameDelete(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.yaml": policy("a1")})
	ch := runSource(t, dir, 10*time.Millisecond)
	waitFor(t, ch, "initial load", hasNames("a1"))

	writeFiles(t, dir, map[string]string{"a.yaml": policy("a2")})
	waitFor(t, ch, "modified file", hasNames("a2"))

	// An editor's atomic save: write a temporary file, rename it over the original.
	writeFiles(t, dir, map[string]string{".a.yaml.swp": policy("a3")})
	if err := os.Rename(filepath.Join(dir, ".a.yaml.swp"), filepath.Join(dir, "a.yaml")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ch, "atomic rename save", hasNames("a3"))

	writeFiles(t, dir, map[string]string{"sub/deeper/b.yaml": policy("b")})
	waitFor(t, ch, "file in a new subdirectory", hasNames("a3", "b"))
	writeFiles(t, dir, map[string]string{"sub/deeper/b.yaml": policy("b2")})
	waitFor(t, ch, "change in the new subdirectory", hasNames("a3", "b2"))

	if err := os.Remove(filepath.Join(dir, "a.yaml")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ch, "deleted file", hasNames("b2"))
	if err := os.RemoveAll(filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ch, "deleted directory", hasNames())
}

func TestRunBadEditKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.yaml": policy("a"), "b.yaml": policy("b")})
	ch := runSource(t, dir, 10*time.Millisecond)
	waitFor(t, ch, "initial load", hasNames("a", "b"))

	writeFiles(t, dir, map[string]string{"a.yaml": strings.Replace(policy("a-new"), "mtls", "mtsl", 1)})
	p := waitFor(t, ch, "bad edit reported", func(p published) bool { return len(p.problems) > 0 })
	if got := names(p); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("objects after bad edit = %v, want the last good [a b]", got)
	}
	want := []string{
		"a.yaml: warning: keeping the last good content of this file until it is fixed",
		`a.yaml:4: PeerAuthentication ns/a-new: spec.mtsl: unknown field "mtsl"; enforced as a fail-closed stand-in until fixed`,
	}
	if !slices.Equal(p.problems, want) {
		t.Errorf("problems = %q, want %q", p.problems, want)
	}
	writeFiles(t, dir, map[string]string{"a.yaml": policy("a-fixed")})
	p = waitFor(t, ch, "fixed file", hasNames("a-fixed", "b"))
	if len(p.problems) != 0 {
		t.Errorf("problems after fix = %q", p.problems)
	}
}

func TestRunReportsUnknownKindsOnce(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n", "a.yaml": policy("a")})
	ch := runSource(t, dir, 10*time.Millisecond)
	p := waitFor(t, ch, "initial load", hasNames("a"))
	if len(p.problems) != 1 || !strings.Contains(p.problems[0], "ConfigMap") {
		t.Errorf("first problems = %q, want the ConfigMap warning", p.problems)
	}
	writeFiles(t, dir, map[string]string{"a.yaml": policy("a2")})
	p = waitFor(t, ch, "reload", hasNames("a2"))
	if len(p.problems) != 0 {
		t.Errorf("problems after reload = %q, want none (already reported)", p.problems)
	}
}

func TestRunDebounceCoalescesBurst(t *testing.T) {
	dir := t.TempDir()
	ch := runSource(t, dir, 300*time.Millisecond)
	waitFor(t, ch, "initial load", hasNames())
	burst := map[string]string{}
	var want []string
	for _, n := range []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"} {
		burst[n+".yaml"] = policy(n)
		want = append(want, n)
	}
	writeFiles(t, dir, burst)
	p := <-ch
	if got := names(p); !slices.Equal(got, want) {
		t.Errorf("first publish after the burst has %v, want all of %v", got, want)
	}
	select {
	case p := <-ch:
		t.Errorf("second publish after one burst: %v", names(p))
	case <-time.After(time.Second):
	}
}

// TestRunConfigMapSwap follows the way the kubelet updates a ConfigMap volume: files are
// symlinks through ..data, which is atomically re-pointed at a new timestamped directory.
func TestRunConfigMapSwap(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"..2026_01/a.yaml": policy("v1")})
	mustSymlink(t, "..2026_01", filepath.Join(dir, "..data"))
	mustSymlink(t, "..data/a.yaml", filepath.Join(dir, "a.yaml"))
	ch := runSource(t, dir, 10*time.Millisecond)
	waitFor(t, ch, "initial load", hasNames("v1"))

	writeFiles(t, dir, map[string]string{"..2026_02/a.yaml": policy("v2")})
	mustSymlink(t, "..2026_02", filepath.Join(dir, "..data_tmp"))
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "..2026_01")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ch, "swapped content", hasNames("v2"))
}

func TestRunSymlinkedDirectory(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	writeFiles(t, other, map[string]string{"x.yaml": policy("x1")})
	mustSymlink(t, other, filepath.Join(dir, "linked"))
	ch := runSource(t, dir, 10*time.Millisecond)
	p := waitFor(t, ch, "initial load", hasNames("x1"))
	if got := p.store.PeerAuthentications[0].Origin.File; got != "linked/x.yaml" {
		t.Errorf("origin = %q, want the path through the link", got)
	}
	writeFiles(t, other, map[string]string{"x.yaml": policy("x2")})
	waitFor(t, ch, "change behind the symlink", hasNames("x2"))
}

func TestRunDirectoryRecreated(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "config")
	writeFiles(t, dir, map[string]string{"a.yaml": policy("a")})
	ch := runSource(t, dir, 10*time.Millisecond)
	waitFor(t, ch, "initial load", hasNames("a"))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"b.yaml": policy("b")})
	waitFor(t, ch, "recreated directory", hasNames("b"))
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestRunMissingDirectory(t *testing.T) {
	s := newTestSource(t, filepath.Join(t.TempDir(), "missing"))
	if err := s.Run(t.Context(), func(*model.Store, []model.Problem) {}); err == nil {
		t.Error("Run on a missing directory: want error")
	}
}

package kube_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// The package runs one real etcd + kube-apiserver (shared/scripts/k8s/start.sh) for all its
// tests. Without the scripts or the prebuilt binaries every test skips (the reason is printed;
// with K8S_TEST_REQUIRED=1 the package fails instead): building them takes minutes and belongs
// to install.sh, run before `go test` (make test, .ci/run).
var (
	restConfig *rest.Config // nil when skipReason is set
	kubeconfig string       // path of restConfig's kubeconfig, for the controlplane binary
	skipReason string
	apiServer  *server // to restart kube-apiserver (restart_test.go)
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	scripts, bins, reason := locate()
	if reason != "" {
		// A skip of every test must be visible in CI logs, and fatal where CI installed the
		// binaries (.ci/run sets K8S_TEST_REQUIRED=1 after install.sh).
		if os.Getenv("K8S_TEST_REQUIRED") == "1" {
			fmt.Fprintln(os.Stderr, "kube e2e: K8S_TEST_REQUIRED=1 but the API server cannot start:", reason)
			return 1
		}
		fmt.Fprintln(os.Stderr, "kube e2e: every test skips:", reason)
		skipReason = reason
		return m.Run()
	}
	state, err := os.MkdirTemp("", "kube-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(state)
	env := append(os.Environ(), bins...)
	env = append(env, "K8S_TEST_STATE="+filepath.Join(state, "env"), fmt.Sprintf("K8S_TEST_OWNER_PID=%d", os.Getpid()))
	start := exec.Command(filepath.Join(scripts, "start.sh"))
	start.Env, start.Stderr = env, os.Stderr
	out, err := start.Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "start.sh: %v\n", err)
		return 1
	}
	defer func() {
		stop := exec.Command(filepath.Join(scripts, "stop.sh"))
		stop.Env, stop.Stdout, stop.Stderr = env, os.Stderr, os.Stderr
		_ = stop.Run()
		apiServer.wait()
	}()
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = v
		}
	}
	apiServer = &server{state: vars["K8S_TEST_STATE"]}
	kubeconfig = vars["KUBECONFIG"]
	if restConfig, err = clientcmd.BuildConfigFromFlags("", kubeconfig); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	restConfig.QPS, restConfig.Burst = 100, 200
	if err := applyIstioCRDs(context.Background(), restConfig); err != nil {
		fmt.Fprintln(os.Stderr, "applying Istio CRDs:", err)
		return 1
	}
	return m.Run()
}

// requireAPIServer skips the test when no API server could be started for a known reason.
func requireAPIServer(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// locate finds the scripts (K8S_TEST_SCRIPTS, else <repo>/../shared/scripts/k8s) and the
// binaries start.sh would use (ETCD_BIN/KUBE_APISERVER_BIN, else the install.sh cache at the
// versions pinned in install.sh). It returns the env entries that make start.sh use those
// binaries, so it never builds, or a reason to skip.
func locate() (scripts string, env []string, reason string) {
	scripts = os.Getenv("K8S_TEST_SCRIPTS")
	if scripts == "" {
		root, err := repoRoot()
		if err != nil {
			return "", nil, "cannot find the repository root: " + err.Error()
		}
		scripts = filepath.Join(root, "..", "shared", "scripts", "k8s")
	}
	for _, f := range []string{"start.sh", "stop.sh", "install.sh"} {
		if _, err := os.Stat(filepath.Join(scripts, f)); err != nil {
			return "", nil, fmt.Sprintf("kube-apiserver test scripts not found (%v); set K8S_TEST_SCRIPTS to shared/scripts/k8s", err)
		}
	}
	etcd, apiserver := os.Getenv("ETCD_BIN"), os.Getenv("KUBE_APISERVER_BIN")
	if etcd == "" || apiserver == "" {
		install, err := os.ReadFile(filepath.Join(scripts, "install.sh"))
		if err != nil {
			return "", nil, err.Error()
		}
		binRoot := os.Getenv("K8S_TEST_BIN")
		if binRoot == "" {
			home, _ := os.UserHomeDir()
			binRoot = filepath.Join(home, ".cache", "k8s-test-bin")
		}
		etcd = filepath.Join(binRoot, "etcd-"+pinned(install, "ETCD_VERSION"), "etcd")
		apiserver = filepath.Join(binRoot, "kubernetes-"+pinned(install, "K8S_VERSION"), "kube-apiserver")
	}
	for _, b := range []string{etcd, apiserver} {
		if fi, err := os.Stat(b); err != nil || fi.Mode()&0o111 == 0 {
			return "", nil, fmt.Sprintf("%s is not built; run %s first (it takes minutes cold, so tests never build it)",
				b, filepath.Join(scripts, "install.sh"))
		}
	}
	return scripts, []string{"ETCD_BIN=" + etcd, "KUBE_APISERVER_BIN=" + apiserver}, ""
}

// pinned reads NAME="${NAME:-value}" from install.sh; the environment overrides it as there.
func pinned(install []byte, name string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	m := regexp.MustCompile(name + `="\$\{` + name + `:-([^}]+)\}"`).FindSubmatch(install)
	if m == nil {
		return "unknown"
	}
	return string(m[1])
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the test directory")
		}
		dir = parent
	}
}

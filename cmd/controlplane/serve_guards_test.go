package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plainenvoy/controlplane/internal/servelog"
)

const exampleGateway = "../../examples/gateway"

// TestServeRefusesPlaintextADSOffLoopback: plaintext ADS reachable from other hosts must be an
// explicit choice. Without TLS or --insecure-plaintext, serve fails before listening, and the
// error names the flags that fix it.
func TestServeRefusesPlaintextADSOffLoopback(t *testing.T) {
	s, err := startServe(t, "--config", exampleGateway, "--ads-addr", "0.0.0.0:0")
	if err == nil {
		t.Fatalf("serve started plaintext ADS on %s without --insecure-plaintext", s.ads)
	}
	for _, flag := range []string{"--tls-cert", "--insecure-plaintext"} {
		if !strings.Contains(err.Error(), flag) {
			t.Errorf("error %q does not name %s", err, flag)
		}
	}

	for name, args := range map[string][]string{
		"insecure-plaintext": {"--ads-addr", "0.0.0.0:0", "--insecure-plaintext"},
		"loopback":           {"--ads-addr", "127.0.0.1:0"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := startServe(t, append([]string{"--config", exampleGateway}, args...)...)
			if err != nil {
				t.Fatalf("serve %v refused to start: %v", args, err)
			}
			conn, err := net.DialTimeout("tcp", s.ads, 2*time.Second)
			if err != nil {
				t.Fatalf("ADS address %s does not accept: %v", s.ads, err)
			}
			conn.Close()
		})
	}
}

// TestServeReadyOnlyOnceEverySourceLoaded: /readyz gates traffic (the Deployment's readiness
// probe), so it must stay 503 while a source has not loaded — here a cluster whose API server
// refuses every connection — while /healthz, the liveness probe, answers.
func TestServeReadyOnlyOnceEverySourceLoaded(t *testing.T) {
	kubeconfig := unreachableKubeconfig(t)
	for name, args := range map[string][]string{
		"kubernetes":           {"--kubeconfig", kubeconfig},
		"files and kubernetes": {"--kubeconfig", kubeconfig, "--config", exampleGateway},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := startServe(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			if code := s.get(t, "/healthz"); code != http.StatusOK {
				t.Fatalf("/healthz = %d, want 200", code)
			}
			for deadline := time.Now().Add(1500 * time.Millisecond); time.Now().Before(deadline); {
				if code := s.get(t, "/readyz"); code != http.StatusServiceUnavailable {
					t.Fatalf("/readyz = %d before the Kubernetes caches synced, want 503", code)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}

	t.Run("files", func(t *testing.T) {
		s, err := startServe(t, "--config", exampleGateway)
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for s.get(t, "/readyz") != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatalf("/readyz not 200 10s after start with --config only:\n%s", s.Log())
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// unreachableKubeconfig writes a kubeconfig whose API server is a loopback port nothing
// listens on, so the informers can never sync.
func unreachableKubeconfig(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: gone
  cluster:
    server: https://%s
    insecure-skip-tls-verify: true
contexts:
- name: gone
  context: {cluster: gone, user: nobody}
current-context: gone
users:
- name: nobody
  user: {token: none}
`, addr)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// served is `controlplane serve` running in-process.
type served struct {
	ads, monitoring string
	exited          chan error
	logMu           sync.Mutex
	log             strings.Builder
}

// startServe runs `controlplane serve args...` in-process, with JSON logs and the monitoring
// server on any loopback port. It returns once serve logs that it listens (it is then stopped,
// and must exit cleanly, when the test ends) or with the error serve exited with first.
// Stopping takes up to a few seconds when the API server is unreachable: client-go's
// watch-list backoff does not watch the context.
func startServe(t *testing.T, args ...string) (*served, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{exited: make(chan error, 1)}
	pr, pw := io.Pipe()
	cmd := newRootCommand()
	// Any free ports: the defaults are fixed ones other tests and processes may hold. args come
	// last, and a repeated flag's last value wins.
	cmd.SetArgs(append([]string{"serve", "--ads-addr", "127.0.0.1:0", "--monitoring-addr", "127.0.0.1:0",
		"--log-format", "json", "--drain-timeout", "1s"}, args...))
	cmd.SetOut(io.Discard)
	cmd.SetErr(pw)
	addrs := make(chan [2]string, 1)
	go s.readLog(pr, addrs)
	go func() {
		err := cmd.ExecuteContext(ctx)
		pw.Close()
		s.exited <- err
	}()
	select {
	case a := <-addrs:
		s.ads, s.monitoring = a[0], a[1]
	case err := <-s.exited:
		cancel()
		if err == nil {
			err = fmt.Errorf("serve exited without error before listening:\n%s", s.Log())
		}
		return s, err
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("serve %v did not listen in 20s:\n%s", args, s.Log())
	}
	t.Cleanup(func() {
		cancel() // what SIGTERM does in main
		select {
		case err := <-s.exited:
			if err != nil {
				t.Errorf("serve exited with %v after stop", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("serve did not stop within 10s of its context ending")
		}
	})
	return s, nil
}

func (s *served) readLog(r io.Reader, addrs chan<- [2]string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		s.logMu.Lock()
		s.log.Write(sc.Bytes())
		s.log.WriteByte('\n')
		s.logMu.Unlock()
		if ads, mon, ok := servelog.Listening(sc.Bytes()); ok {
			addrs <- [2]string{ads, mon}
		}
	}
	_, _ = io.Copy(io.Discard, r) // a scanner error must not block serve's logging
}

// Log is what serve has logged so far.
func (s *served) Log() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

// get returns the status code of GET path on the monitoring server.
func (s *served) get(t *testing.T, path string) int {
	t.Helper()
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + s.monitoring + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

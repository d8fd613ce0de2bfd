package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plainenvoy/controlplane/internal/servelog"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/controlplane once per test run.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "controlplane-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "controlplane")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/controlplane").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a running `controlplane serve`.
type proc struct {
	cmd            *exec.Cmd
	ADSAddr        string
	MonitoringAddr string
	logMu          sync.Mutex
	log            bytes.Buffer
	exited         chan error
}

// startBinary runs `controlplane serve --config dir` with JSON logs on loopback ports (ADS on
// adsAddr, "127.0.0.1:0" for any) and waits until it is listening and ready.
func startBinary(t testing.TB, dir, adsAddr string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--config", dir, "--ads-addr", adsAddr, "--monitoring-addr", "127.0.0.1:0",
		"--log-format", "json", "--drain-timeout", "2s"}, extra...)
	p := &proc{cmd: exec.Command(binary(t), args...), exited: make(chan error, 1)}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrs := make(chan [2]string, 1)
	go p.readLog(stderr, addrs)
	t.Cleanup(func() { p.stop(t) })
	select {
	case a := <-addrs:
		p.ADSAddr, p.MonitoringAddr = a[0], a[1]
	case <-time.After(20 * time.Second):
		t.Fatalf("controlplane did not start:\n%s", p.Log())
	}
	waitFor(t, func() bool { return httpGet(p.MonitoringAddr, "/readyz") == nil })
	return p
}

func (p *proc) readLog(r io.Reader, addrs chan<- [2]string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		p.logMu.Lock()
		p.log.Write(line)
		p.log.WriteByte('\n')
		p.logMu.Unlock()
		if ads, mon, ok := servelog.Listening(line); ok {
			addrs <- [2]string{ads, mon}
		}
	}
	p.exited <- p.cmd.Wait()
}

// Log is what the process has logged so far.
func (p *proc) Log() string {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	return p.log.String()
}

// stop sends SIGTERM and requires a clean exit within the drain timeout.
func (p *proc) stop(t testing.TB) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("controlplane exited with %v:\n%s", err, tail(p.Log(), 20))
		}
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Errorf("controlplane did not stop on SIGTERM")
	}
}

// run executes a controlplane subcommand and returns its output.
func run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(binary(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("controlplane %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

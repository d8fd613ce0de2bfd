package kube_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// server restarts kube-apiserver in place: start.sh cannot be re-run on a state dir (it wipes
// it, etcd data and CA included), so restart stops just the kube-apiserver process recorded in
// $K8S_TEST_STATE/pids and starts the same binary with the same arguments, which keeps its
// port, certificates and etcd. The new PID replaces the old one in the pids file, so stop.sh
// and the watchdog still end it.
type server struct {
	state string
	mu    sync.Mutex
	cmds  []*exec.Cmd // processes this test binary started, reaped by wait
}

// stop ends kube-apiserver and returns its binary and arguments.
func (s *server) stop() (bin string, args []string, err error) {
	pids, err := os.ReadFile(filepath.Join(s.state, "pids"))
	if err != nil {
		return "", nil, err
	}
	var pid int
	for _, line := range strings.Split(string(pids), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "kube-apiserver" {
			pid, _ = strconv.Atoi(f[1])
			bin = f[2]
		}
	}
	if pid == 0 {
		return "", nil, fmt.Errorf("no kube-apiserver in %s/pids", s.state)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return "", nil, err
	}
	args = strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")[1:]
	// SIGKILL, as a crash: a graceful shutdown takes seconds, and a longer outage only adds
	// informer backoff to the test's run time.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return "", nil, err
	}
	for deadline := time.Now().Add(15 * time.Second); alive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return "", nil, fmt.Errorf("kube-apiserver (pid %d) still running after SIGKILL", pid)
		}
	}
	s.reap()
	return bin, args, nil
}

// start runs kube-apiserver again and waits until it is ready.
func (s *server) start(ctx context.Context, kc kubernetes.Interface, bin string, args []string) error {
	logf, err := os.OpenFile(filepath.Join(s.state, "kube-apiserver.log"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.mu.Lock()
	s.cmds = append(s.cmds, cmd)
	s.mu.Unlock()
	pidsPath := filepath.Join(s.state, "pids")
	pids, err := os.ReadFile(pidsPath)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	for _, line := range strings.Split(strings.TrimSuffix(string(pids), "\n"), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "kube-apiserver" {
			line = fmt.Sprintf("kube-apiserver %d %s", cmd.Process.Pid, bin)
		}
		out.WriteString(line + "\n")
	}
	if err := os.WriteFile(pidsPath, out.Bytes(), 0o644); err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		body, err := kc.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", nil
	})
}

// reap collects processes this binary started once they have exited.
func (s *server) reap() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var running []*exec.Cmd
	for _, c := range s.cmds {
		if alive(c.Process.Pid) {
			running = append(running, c)
			continue
		}
		_ = c.Wait()
	}
	s.cmds = running
}

// wait reaps every process this binary started; stop.sh has ended them.
func (s *server) wait() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cmds {
		_ = c.Wait()
	}
	s.cmds = nil
}

// alive: the process exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i > 0 && i+2 < len(stat) && stat[i+2] != 'Z' && stat[i+2] != 'X'
}

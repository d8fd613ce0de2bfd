//go:build bench

package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTimes reads the CPU time (user + system) the server process and this test process (the
// simulated clients) have used, so a round's latency can be set against the work each side did
// on the machine's shared cores, and the server's minor page faults (fresh memory touched).
func cpuTimes(t *testing.T, serverPID int) (server, clients time.Duration, serverFaults int64) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", serverPID))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the parenthesised command name; utime and stime are fields 14 and 15.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	ticks := func(s string) time.Duration {
		n, _ := strconv.ParseInt(s, 10, 64)
		return time.Duration(n) * 10 * time.Millisecond // USER_HZ is 100 on Linux
	}
	server = ticks(f[11]) + ticks(f[12])
	if ns, ok := onCPU(serverPID); ok {
		server = ns
	}
	serverFaults, _ = strconv.ParseInt(f[7], 10, 64) // minflt: pages the kernel had to map

	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	clients = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return server, clients, serverFaults
}

// onCPU sums the time every thread of pid has run, from /proc/PID/task/*/schedstat (nanoseconds;
// /proc/PID/stat counts in 10ms ticks, too coarse for one round). Threads that exited are not
// counted, which the Go runtime's long-lived threads make negligible.
func onCPU(pid int) (time.Duration, bool) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, false
	}
	var sum time.Duration
	for _, task := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, task.Name()))
		if err != nil {
			continue // the thread just exited
		}
		f := strings.Fields(string(data))
		if len(f) == 0 {
			return 0, false
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, false
		}
		sum += time.Duration(n)
	}
	return sum, true
}

// syscalls reads how many read and write system calls pid has made (/proc/PID/io).
func syscalls(t *testing.T, pid int) (reads, writes int64) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, 0 // not readable here: reported as zero
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "syscr: "); ok {
			reads, _ = strconv.ParseInt(v, 10, 64)
		}
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			writes, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return reads, writes
}

// gcCycles reads how many garbage collections the server has finished, from its /metrics.
func gcCycles(t *testing.T, monitoringAddr string) int64 {
	n, ok := scrape(t, monitoringAddr, "go_gc_duration_seconds_count")
	if !ok {
		t.Fatal("no go_gc_duration_seconds_count in /metrics")
	}
	return int64(n)
}

// scrape reads one unlabelled series from the server's /metrics; false when it has none (an
// older binary, with -binary).
func scrape(t *testing.T, monitoringAddr, series string) (float64, bool) {
	t.Helper()
	resp, err := http.Get("http://" + monitoringAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return n, true
		}
	}
	return 0, false
}

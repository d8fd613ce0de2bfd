//go:build bench

package e2e

import (
	"fmt"
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
	serverFaults, _ = strconv.ParseInt(f[7], 10, 64) // minflt: pages the kernel had to map

	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	clients = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return server, clients, serverFaults
}

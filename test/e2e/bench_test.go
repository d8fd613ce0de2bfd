//go:build bench

package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

var (
	benchClients = flag.Int("clients", 1000, "concurrent ADS clients")
	benchGroups  = flag.Int("groups", 10, "proxy groups (namespaces) the clients are spread over")
	benchRounds  = flag.Int("rounds", 5, "policy edits measured")
	benchDelta   = flag.Bool("delta", false, "clients use incremental xDS")
	benchBinary  = flag.String("binary", "", "run this controlplane binary instead of building one (to compare builds)")
	benchPause   = flag.Duration("pause", 200*time.Millisecond, "idle time before each edit, so that the server has finished with the last round's ACKs (waitAll returns when the clients have sent them)")
	benchProfile = flag.String("serverprofile", "", "write a CPU profile of the server, taken during the rounds, to this file")
	benchClient  = flag.String("client", "lean", "simulated proxies: lean (leanStream: HTTP/2 framing on one goroutine each) or grpc (grpc-go clients, which take about twice the CPU from the server's cores)")
	benchLog     = flag.String("serverlog", "", "write the server's log (stderr: its JSON lines, and gctrace lines with GODEBUG=gctrace=1) to this file")
	benchWarmup  = flag.Int("warmup", 1, "policy edits before the measured rounds (the first push after connecting pays for growing buffers and stacks)")
)

// loadClient is one simulated Envoy: it ACKs every response and records when it ACKed each
// listener version.
type loadClient struct {
	ack   func(Response) error
	close func()
	mu    sync.Mutex
	acked map[string]time.Time // listener version → when ACKed
	// versions is len(acked), read without the lock: waitAll polls 10,000 clients every
	// millisecond, and locking each one cost the server a share of the machine's two cores.
	versions atomic.Int32
}

// handle ACKs r on the client's receiving goroutine and records listener versions.
func (c *loadClient) handle(r Response) {
	if err := c.ack(r); err != nil {
		return // the stream is ending; its receive loop stops on its own
	}
	if r.TypeURL == lds {
		c.mu.Lock()
		c.acked[r.Version] = time.Now()
		c.versions.Store(int32(len(c.acked)))
		c.mu.Unlock()
	}
}

// connect opens lc's stream as -client says and subscribes to every type, wildcard.
func (lc *loadClient) connect(addr string, node *corev3.Node) error {
	switch *benchClient {
	case "lean":
		s, err := dialLean(addr, node, lc.handle)
		if err != nil {
			return err
		}
		lc.ack, lc.close = s.ACK, s.Close
		for _, typ := range typeOrder {
			if err := s.Subscribe(typ); err != nil {
				return err
			}
		}
	case "grpc":
		// The handler may run before DialHandled returns: it waits for ack to be set.
		ready := make(chan struct{})
		c, err := DialHandled(context.Background(), addr, node, *benchDelta, func(r Response) {
			<-ready
			lc.handle(r)
		})
		if err != nil {
			return err
		}
		c.SkipDecode = true
		lc.ack, lc.close = c.ACK, c.Close
		close(ready)
		for _, typ := range typeOrder {
			if err := c.Subscribe(typ, nil, "", nil); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("-client %q: want lean or grpc", *benchClient)
	}
	return nil
}

// latest returns when the newest listener version was ACKed (zero before any).
func (c *loadClient) latest() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var last time.Time
	for _, at := range c.acked {
		if at.After(last) {
			last = at
		}
	}
	return last
}

// TestPushLoad is the push benchmark: the real binary, -clients ADS clients on loopback in
// -groups groups; each round edits the root-namespace AuthorizationPolicy (which affects every
// group) and measures, per client, the time from the file write until the client has received
// and ACKed the new listeners. The time includes the file watcher's debounce (1ms here) and the
// rebuild debounce (5ms). It reports p50/p99/max per round and the server's RSS per proxy.
func TestPushLoad(t *testing.T) {
	raiseFileLimit(t)
	// The simulated proxies share this process and the machine's cores with the server; their
	// garbage collection is not the server's cost, so it runs rarely here.
	defer debug.SetGCPercent(debug.SetGCPercent(800))
	if *benchBinary != "" {
		buildOnce.Do(func() { binPath = *benchBinary })
	}
	dir := t.TempDir()
	writeMesh(t, dir, *benchGroups)
	p := startBinary(t, dir, "127.0.0.1:0", "--file-debounce", "1ms")
	rssBefore := rss(t, p.cmd.Process.Pid)

	start := time.Now()
	clients := make([]*loadClient, *benchClients)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			node := gatewayNode(fmt.Sprintf("gw-%d", i), fmt.Sprintf("ns-%d", i%*benchGroups))
			lc := &loadClient{acked: map[string]time.Time{}}
			if err := lc.connect(p.ADSAddr, node); err != nil {
				t.Error(err)
			}
			clients[i] = lc
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	defer func() {
		for _, c := range clients {
			if c.close != nil {
				c.close()
			}
		}
	}()
	waitAll(t, clients, 1)
	t.Logf("%d clients in %d groups connected and synced in %v", len(clients), *benchGroups, time.Since(start).Round(time.Millisecond))
	rssAfter := rss(t, p.cmd.Process.Pid)
	t.Logf("server RSS: %.1f MiB idle, %.1f MiB with %d proxies: %.1f KiB per proxy",
		float64(rssBefore)/1024, float64(rssAfter)/1024, len(clients), float64(rssAfter-rssBefore)/float64(len(clients)))

	var all, perRound []time.Duration
	var stopProfile func()
	for edit := 1; edit <= *benchWarmup+*benchRounds; edit++ {
		round := edit - *benchWarmup
		if round == 1 {
			stopProfile = startProfile(t, p.MonitoringAddr, *benchProfile)
		}
		time.Sleep(*benchPause)
		gcs := gcCycles(t, p.MonitoringAddr)
		srvCPU, cliCPU, faults := cpuTimes(t, p.cmd.Process.Pid)
		reads, writes := syscalls(t, p.cmd.Process.Pid)
		at := time.Now()
		writePolicy(t, dir, "istio-system", "root-deny", "/admin", "/edit-"+strconv.Itoa(edit))
		waitAll(t, clients, edit+1)
		lat := make([]time.Duration, len(clients))
		for i, c := range clients {
			lat[i] = c.latest().Sub(at)
		}
		srvAfter, cliAfter, faultsAfter := cpuTimes(t, p.cmd.Process.Pid)
		readsAfter, writesAfter := syscalls(t, p.cmd.Process.Pid)
		gcsAfter := gcCycles(t, p.MonitoringAddr)
		name := fmt.Sprintf("round %d", round)
		if round < 1 {
			name = fmt.Sprintf("warm-up edit %d (not counted)", edit)
		} else {
			all = append(all, lat...)
			perRound = append(perRound, slices.Max(lat))
		}
		t.Logf("%s: %s; %s; CPU server %v, clients %v; server page faults %d, reads %d, writes %d, GCs %d", name, percentiles(lat),
			phases(p.Log(), at), (srvAfter - srvCPU).Round(time.Millisecond), (cliAfter - cliCPU).Round(time.Millisecond),
			faultsAfter-faults, readsAfter-reads, writesAfter-writes, gcsAfter-gcs)
	}
	stopProfile()
	t.Logf("all rounds: %s", percentiles(all))
	slices.Sort(perRound)
	t.Logf("last client of each round: median %v, worst %v", perRound[len(perRound)/2].Round(10*time.Microsecond),
		perRound[len(perRound)-1].Round(10*time.Microsecond))
	idle, ok := scrape(t, p.MonitoringAddr, "controlplane_idle_gc_total")
	t.Logf("server RSS after the rounds: %.1f MiB; garbage collections run between pushes: %v (%v)", float64(rss(t, p.cmd.Process.Pid))/1024,
		idle, map[bool]string{true: "counted", false: "not counted by this binary"}[ok])
	if *benchLog != "" {
		if err := os.WriteFile(*benchLog, []byte(p.Log()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

var typeOrder = []string{cds, "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment", lds,
	"type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"}

// waitAll waits until every client has ACKed n distinct listener versions.
func waitAll(t *testing.T, clients []*loadClient, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		done := 0
		for _, c := range clients {
			if int(c.versions.Load()) >= n {
				done++
			}
		}
		if done == len(clients) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d clients have %d listener versions", done, len(clients), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func percentiles(d []time.Duration) string {
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(q float64) time.Duration {
		return s[min(len(s)-1, int(q*float64(len(s))))].Round(10 * time.Microsecond)
	}
	return fmt.Sprintf("n=%d p50=%v p90=%v p99=%v max=%v", len(s), at(0.5), at(0.9), at(0.99), s[len(s)-1].Round(10*time.Microsecond))
}

// rss reads a process's resident set size in KiB.
func rss(t *testing.T, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// raiseFileLimit lifts the soft open-file limit to the hard one: each client holds a socket.
func raiseFileLimit(t *testing.T) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
}

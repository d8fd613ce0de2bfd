package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestBinary runs the real binary on a policy directory: a file edit reaches the affected
// group only, status and config show the proxies, and after a restart on the same port the
// proxies that reconnect with their versions are sent nothing.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	writeMesh(t, dir, 2)
	p := startBinary(t, dir, "127.0.0.1:0", "--file-debounce", "10ms")
	a := dial(t, p.ADSAddr, gatewayNode("gw-a", "ns-0"), false)
	b := dial(t, p.ADSAddr, gatewayNode("gw-b", "ns-1"), true)
	aCl, aLi := subscribe(t, a)
	bCl, bLi := subscribe(t, b)
	for c, rs := range map[*Client][]Response{a: {aCl, aLi}, b: {bCl, bLi}} {
		for _, r := range rs {
			if err := c.ACK(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(aLi.Resources) == 0 {
		t.Fatal("gateway got no listener")
	}

	waitFor(t, func() bool {
		out := run(t, "status", "--addr", p.MonitoringAddr)
		return strings.Count(out, "SYNCED") >= 4 && strings.Contains(out, "gw-a") && strings.Contains(out, "gw-b")
	})
	if out := run(t, "config", "--addr", p.MonitoringAddr, "--node", "gw-a", "-o", "json"); !strings.Contains(out, `"listeners"`) || !strings.Contains(out, "0.0.0.0") {
		t.Fatalf("config --node gw-a:\n%s", out)
	}

	writePolicy(t, dir, "ns-0", "deny-private", "/private", "/secret")
	got := drain(t, a)
	r, ok := got[lds]
	if !ok || r.Version == aLi.Version {
		t.Fatalf("after the edit gw-a got %v, want a new listener version", got)
	}
	aLi = r
	expectNothing(t, b)

	// Restart on the same port: proxies resume with what they have and get no push.
	addr := p.ADSAddr
	p.stop(t)
	for _, c := range []*Client{a, b} {
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("stream not ended by SIGTERM")
		}
	}
	startBinary(t, dir, addr)
	a2 := dial(t, addr, gatewayNode("gw-a", "ns-0"), false)
	for _, r := range []Response{aCl, aLi} {
		if err := a2.Subscribe(r.TypeURL, nil, r.Version, nil); err != nil {
			t.Fatal(err)
		}
	}
	expectNothing(t, a2)
}

// drain ACKs every response until none comes for a while and returns the last one per type.
// A reload may be published in more than one step; the test compares against the last.
func drain(t *testing.T, c *Client) map[string]Response {
	t.Helper()
	out := map[string]Response{}
	r := next(t, c)
	for {
		out[r.TypeURL] = r
		if err := c.ACK(r); err != nil {
			t.Fatal(err)
		}
		var err error
		if r, err = c.Next(quiet); err != nil {
			return out
		}
	}
}

package jwks

import (
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	jose "github.com/go-jose/go-jose/v4"
)

// BenchmarkRefresh1000URIs measures one steady-state refresh round of 1,000 sources served by
// one local TLS server (two RSA-2048 keys each, unchanged, so nothing is announced), through the
// manager's real path: semaphore, fetch, validation, record. Besides ns/op it reports the
// process CPU time per round (client and server together, so an upper bound for the control
// plane) and that time as a share of one core at the default 20-minute refresh interval; the
// goal is under 2%. "conns=new" makes every fetch open its own TLS connection, as 1,000 distinct
// IdP hosts would; "conns=reused" is the keep-alive (here HTTP/2) best case.
func BenchmarkRefresh1000URIs(b *testing.B) {
	for _, fresh := range []bool{true, false} {
		name := map[bool]string{true: "uris=1000/conns=new", false: "uris=1000/conns=reused"}[fresh]
		b.Run(name, func(b *testing.B) { benchmarkRefresh(b, 1000, fresh) })
	}
}

func benchmarkRefresh(b *testing.B, n int, freshConns bool) {
	doc := jwksDoc(b, jose.JSONWebKey{Key: rsaKey(), KeyID: "r1", Algorithm: "RS256"},
		jose.JSONWebKey{Key: rsaKey2(), KeyID: "r2", Algorithm: "RS256"})
	p := newIDP(b, serve(doc))
	opts := testOptions(p)
	opts.Registerer = nil
	m := newManager(b, opts)
	srcs := make([]Source, n)
	for i := range srcs {
		uri := fmt.Sprintf("%s/tenant-%d/keys", p.URL, i)
		srcs[i] = Source{Key: uri, URI: uri, Timeout: 10 * time.Second}
	}
	m.SetSources(b.Context(), srcs)
	refreshRound(b, m, srcs) // load the keys: later rounds are steady state
	if freshConns {
		// One connection per fetch, as with 1,000 distinct IdP hosts whose idle connections
		// expire (90 s) between 20-minute rounds; otherwise HTTP/2 would carry every fetch on
		// one connection to the single test server.
		m.fetcher.client.Transport.(*http.Transport).DisableKeepAlives = true
	}

	var cpu time.Duration
	b.ReportAllocs()
	for b.Loop() {
		before := processCPU(b)
		refreshRound(b, m, srcs)
		cpu += processCPU(b) - before
	}
	perRound := cpu / time.Duration(b.N)
	b.ReportMetric(float64(perRound.Milliseconds()), "cpu-ms/round")
	b.ReportMetric(100*perRound.Seconds()/defaultRefresh.Seconds(), "%core@20m")
	select {
	case keys := <-m.Changes(): // the load round announced every source once
		if len(keys) != n {
			b.Errorf("load round announced %d sources, want %d", len(keys), n)
		}
	default:
		b.Error("load round announced nothing")
	}
	select {
	case keys := <-m.Changes():
		b.Errorf("steady-state rounds announced %d changes", len(keys))
	default:
	}
}

// refreshRound refreshes every source once, as the workers would, bounded by the manager's
// semaphore.
func refreshRound(b *testing.B, m *Manager, srcs []Source) {
	var wg sync.WaitGroup
	for _, src := range srcs {
		wg.Go(func() {
			m.acquire(b.Context())
			res, err := m.fetcher.fetch(b.Context(), src)
			<-m.sem
			if err != nil {
				b.Error(err)
			}
			m.record(src.Key, 0, res, err, backoff.NewExponentialBackOff())
		})
	}
	wg.Wait()
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

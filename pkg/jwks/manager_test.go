package jwks

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestManagerRotation: a new source is fetched without waiting for a refresh, a rotated set is
// announced, and a refetch of the same keys is not.
func TestManagerRotation(t *testing.T) {
	a, b := testKey(t, "a"), testKey(t, "b")
	p := newIDP(t, serve(jwksDoc(t, a)))
	opts := testOptions(p)
	opts.Refresh = 20 * time.Millisecond
	m := newManager(t, opts)
	run(t, m)
	key := p.URL + "/keys"
	m.SetSources(t.Context(), []Source{{Key: key, URI: key, Issuer: "https://issuer"}})

	waitChange(t, m, key)
	if got := m.Keys()[key]; got.Source != key || !strings.Contains(got.JSON, `"kid":"a"`) {
		t.Fatalf("keys after first fetch = %+v", got)
	}

	p.set(serve(jwksDoc(t, a, b)))
	waitChange(t, m, key)
	if got := m.Keys()[key].JSON; !strings.Contains(got, `"kid":"a"`) || !strings.Contains(got, `"kid":"b"`) {
		t.Fatalf("keys after rotation = %s", got)
	}

	successes := func() float64 { return value(t, m.metrics.fetches.WithLabelValues("success")) }
	after := successes()
	waitFor(t, "three more refreshes", func() bool { return successes() >= after+3 })
	select {
	case keys := <-m.Changes():
		t.Errorf("refetching unchanged keys announced a change of %v", keys)
	default:
	}
}

// TestManagerDiscoveryFailureKeepsKeys is the istio/istio#58101 regression: with OpenID
// discovery, failures after one success (discovery endpoint erroring, then connections
// dropped) keep the old keys byte for byte and announce nothing.
func TestManagerDiscoveryFailureKeepsKeys(t *testing.T) {
	doc := jwksDoc(t, testKey(t, "a"))
	var p *idp
	p = newIDP(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/openid-configuration") {
			serve(`{"jwks_uri":"`+p.URL+`/keys"}`)(w, r)
			return
		}
		serve(doc)(w, r)
	})
	opts := testOptions(p)
	opts.Refresh = 10 * time.Millisecond
	opts.FetchRetries = -1
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	m := newManager(t, opts)
	run(t, m)
	issuer := p.URL + "/"
	m.SetSources(t.Context(), []Source{{Key: issuer, Issuer: issuer}})
	waitChange(t, m, issuer)
	before := m.Keys()[issuer]

	p.set(status(http.StatusServiceUnavailable))
	waitFor(t, "two failed rounds", func() bool { return m.Status()[0].ConsecutiveFailures >= 2 })
	p.set(func(w http.ResponseWriter, _ *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack() // a transient connection error
		conn.Close()
	})
	waitFor(t, "a connection failure", func() bool {
		return value(t, m.metrics.errors.WithLabelValues(reasonConnect)) > 0
	})

	if after := m.Keys()[issuer]; after != before {
		t.Errorf("keys changed after failures:\n%s\n%s", before.JSON, after.JSON)
	}
	select {
	case keys := <-m.Changes():
		t.Errorf("failures announced a change of %v", keys)
	default:
	}
	st := m.Status()[0]
	if st.URI != p.URL+"/keys" || st.LastSuccess.IsZero() || st.LastError == "" || st.KeyCount != 1 {
		t.Errorf("status = %+v", st)
	}
	want := []string{`controlplane_jwks_sources{state=fresh} 0`, `controlplane_jwks_sources{state=stale} 1`, `controlplane_jwks_sources{state=unloaded} 0`}
	if got := gathered(t, reg, "controlplane_jwks_sources"); !slices.Equal(got, want) {
		t.Errorf("gathered %v, want %v", got, want)
	}
	if got := gathered(t, reg, "controlplane_jwks_last_success_timestamp_seconds"); len(got) != 1 || strings.HasSuffix(got[0], " 0") {
		t.Errorf("last success gauge = %v", got)
	}
	if v := value(t, m.metrics.errors.WithLabelValues(reasonStatus)); v < 2 {
		t.Errorf("fetch_errors_total{reason=http_status} = %v, want >= 2", v)
	}
}

// TestManagerRecoversAfterFailedFirstFetch is the istio/istio#53260 / #44315 regression: an
// issuer whose first fetches fail has no keys (its tokens are rejected), and the keys are
// delivered by the next retry once the server recovers, not at the next 20-minute refresh.
func TestManagerRecoversAfterFailedFirstFetch(t *testing.T) {
	doc := jwksDoc(t, testKey(t, "a"))
	var calls atomic.Int64
	p := newIDP(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 3 {
			status(http.StatusInternalServerError)(w, r)
			return
		}
		serve(doc)(w, r)
	})
	opts := testOptions(p)
	opts.FetchRetries = -1
	opts.Refresh = time.Hour
	m := newManager(t, opts)
	run(t, m)
	key := p.URL + "/keys"
	m.SetSources(t.Context(), []Source{{Key: key, URI: key}})

	waitFor(t, "a failed first round", func() bool { return m.Status()[0].ConsecutiveFailures > 0 })
	if _, ok := m.Keys()[key]; ok && calls.Load() <= 3 {
		t.Fatal("a source that never loaded has keys")
	}
	waitChange(t, m, key)
	if !strings.Contains(m.Keys()[key].JSON, `"kid":"a"`) {
		t.Fatalf("keys = %q", m.Keys()[key].JSON)
	}
	if st := m.Status()[0]; st.ConsecutiveFailures != 0 || st.LastError != "" || st.NextRefresh.Before(time.Now().Add(30*time.Minute)) {
		t.Errorf("after recovery: status %+v, want reset failures and a steady-state refresh", st)
	}
}

// TestManagerNeverLoadedSource: no keys, so translation emits the verify-nothing set.
func TestManagerNeverLoadedSource(t *testing.T) {
	p := newIDP(t, serve(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`))
	m := newManager(t, testOptions(p))
	run(t, m)
	key := p.URL + "/keys"
	m.SetSources(t.Context(), []Source{{Key: key, URI: key}})
	waitFor(t, "two failed rounds", func() bool { return m.Status()[0].ConsecutiveFailures >= 2 })
	if ks, ok := m.Keys()[key]; ok {
		t.Errorf("Keys has %+v for a source that never loaded", ks)
	}
	states, oldest := m.gauges()
	if states[stateUnloaded] != 1 || oldest != 0 {
		t.Errorf("gauges = %v, %v", states, oldest)
	}
	if !strings.HasPrefix(m.Status()[0].LastError, reasonNoKeys) {
		t.Errorf("last error = %q", m.Status()[0].LastError)
	}
}

// TestManagerSharedSource: many rules naming one URI make one fetcher and one request, and
// setting the same source again neither restarts its worker nor refetches it.
func TestManagerSharedSource(t *testing.T) {
	doc := jwksDoc(t, testKey(t, "a"))
	var sharedHits atomic.Int64
	p := newIDP(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/keys" {
			sharedHits.Add(1)
		}
		serve(doc)(w, r)
	})
	m := newManager(t, testOptions(p))
	run(t, m)
	key := p.URL + "/keys"
	src := Source{Key: key, URI: key}
	m.SetSources(t.Context(), []Source{src, src, src, {Key: "", URI: key}, {Key: "x"}})
	waitChange(t, m, key)
	gen := func() uint64 {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.entries[key].gen
	}
	before := gen()
	m.SetSources(t.Context(), []Source{src, src}) // same set again: no refetch
	waitFor(t, "reconcile", func() bool { return len(m.Status()) == 1 })
	if hits := p.hits.Load(); hits != 1 {
		t.Errorf("server hit %d times, want 1", hits)
	}
	// Run only fetches a new source after reconciling every SetSources before it, so once
	// this one is loaded the repeated set above has been acted on.
	other := p.URL + "/other"
	m.SetSources(t.Context(), []Source{src, {Key: other, URI: other}})
	waitChange(t, m, other)
	if after := gen(); after != before {
		t.Errorf("worker of %s restarted (generation %d → %d)", key, before, after)
	}
	if hits := sharedHits.Load(); hits != 1 {
		t.Errorf("%s fetched %d times, want 1", key, hits)
	}
}

// TestManagerRemovedSource: a removed source stops refreshing; it keeps its keys through
// the grace period and is then dropped; re-adding it within the grace keeps serving its keys.
func TestManagerRemovedSource(t *testing.T) {
	p := newIDP(t, serve(jwksDoc(t, testKey(t, "a"))))
	opts := testOptions(p)
	opts.Refresh = 5 * time.Millisecond
	opts.RemovedGrace = time.Hour
	m := newManager(t, opts)
	run(t, m)
	key := p.URL + "/keys"
	m.SetSources(t.Context(), []Source{{Key: key, URI: key}})
	waitChange(t, m, key)

	m.SetSources(t.Context(), nil)
	waitFor(t, "worker stopped", func() bool { return !m.Status()[0].Active })
	hits := p.hits.Load()
	time.Sleep(50 * time.Millisecond) // ten refresh intervals
	if got := p.hits.Load(); got > hits+1 {
		t.Errorf("removed source still refreshed: %d requests after removal", got-hits)
	}
	if _, ok := m.Keys()[key]; !ok {
		t.Error("removed source lost its keys within the grace period")
	}

	m.SetSources(t.Context(), []Source{{Key: key, URI: key}})
	waitFor(t, "refresh resumed", func() bool { return p.hits.Load() > hits+2 })

	m.mu.Lock() // reconcile reads RemovedGrace under m.mu
	m.opts.RemovedGrace = -1
	m.mu.Unlock()
	m.SetSources(t.Context(), nil)
	waitFor(t, "eviction", func() bool { return len(m.Status()) == 0 && len(m.Keys()) == 0 })
}

// TestManagerRunStopsDuringHangingFetch: cancelling Run while a fetch hangs returns promptly
// (run's cleanup fails the test otherwise), and Run refuses to run twice at once.
func TestManagerRunStopsDuringHangingFetch(t *testing.T) {
	entered := make(chan struct{}, 1)
	p := newIDP(t, func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-r.Context().Done()
	})
	m := newManager(t, testOptions(p))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	key := p.URL + "/keys"
	m.SetSources(t.Context(), []Source{{Key: key, URI: key, Timeout: time.Minute}})
	<-entered
	if err := m.Run(ctx); err == nil {
		t.Error("second concurrent Run: want an error")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return while a fetch was hanging")
	}
	if st := m.Status()[0]; st.ConsecutiveFailures != 0 {
		t.Errorf("an aborted fetch was counted as a failure: %+v", st)
	}
}

func TestChangesCoalesce(t *testing.T) {
	p := newIDP(t, serve(""))
	m := newManager(t, testOptions(p))
	m.notify("b")
	m.notify("a")
	m.notify("b", "c")
	if got := <-m.Changes(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("coalesced = %v", got)
	}
	select {
	case got := <-m.Changes():
		t.Errorf("extra notification %v", got)
	default:
	}
}

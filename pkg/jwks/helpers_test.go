package jwks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// testKey returns a fresh P-256 key with the given kid (EC keys are cheap to generate).
func testKey(t testing.TB, kid string) jose.JSONWebKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: "ES256", Use: "sig"}
}

// jwksDoc serialises the public halves of keys as a JWKS document.
func jwksDoc(t testing.TB, keys ...jose.JSONWebKey) string {
	t.Helper()
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.Public())
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// idp is a TLS identity provider whose behaviour a test swaps while the manager runs.
type idp struct {
	*httptest.Server
	hits    atomic.Int64
	mu      sync.Mutex
	handler http.HandlerFunc
}

func newIDP(t testing.TB, h http.HandlerFunc) *idp {
	t.Helper()
	p := &idp{handler: h}
	p.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		p.mu.Lock()
		h := p.handler
		p.mu.Unlock()
		h(w, r)
	}))
	p.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are what some tests provoke
	p.StartTLS()
	t.Cleanup(p.Close)
	return p
}

func (p *idp) set(h http.HandlerFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handler = h
}

// caBundle is the PEM of the test server's self-signed certificate.
func (p *idp) caBundle() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Certificate().Raw})
}

func serve(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}
}

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

// testOptions are fast settings trusting p's certificate; tests override fields.
func testOptions(p *idp) Options {
	return Options{
		CABundle:              p.caBundle(),
		Refresh:               time.Hour,
		MinRefresh:            time.Millisecond,
		FailureBackoffInitial: 10 * time.Millisecond,
		FailureBackoffMax:     50 * time.Millisecond,
		RetryInitial:          time.Millisecond,
		Log:                   slog.New(slog.DiscardHandler),
		Registerer:            prometheus.NewRegistry(),
	}
}

func newManager(t testing.TB, opts Options) *Manager {
	t.Helper()
	m, err := NewManager(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// run runs m until the test ends, and fails the test if Run does not return after cancel,
// which is how the tests check that every goroutine the manager started has exited.
func run(t testing.TB, m *Manager) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel: a goroutine is stuck")
		}
	})
}

// waitChange reads Changes until key is announced.
func waitChange(t testing.TB, m *Manager, key string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case keys := <-m.Changes():
			if slices.Contains(keys, key) {
				return
			}
		case <-deadline:
			t.Fatalf("no change announced for %s; status %+v", key, m.Status())
		}
	}
}

// waitFor polls cond until it holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// value reads a counter or gauge without prometheus/testutil, whose diff dependency is not
// in go.sum.
func value(t testing.TB, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if c := out.GetCounter(); c != nil {
		return c.GetValue()
	}
	return out.GetGauge().GetValue()
}

// gathered returns "name{label=value} number" lines for the metrics of reg named name.
func gathered(t testing.TB, reg *prometheus.Registry, name string) []string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			out = append(out, fmt.Sprintf("%s{%s} %g", name, strings.Join(labels, ","), v))
		}
	}
	return out
}

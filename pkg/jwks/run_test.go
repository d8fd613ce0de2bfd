package jwks

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// TestRefreshDelay: Cache-Control max-age may shorten the refresh down to MinRefresh, never
// lengthen it past Refresh; up to 10% jitter is taken off.
func TestRefreshDelay(t *testing.T) {
	m := newManager(t, Options{Log: slog.New(slog.DiscardHandler)})
	tests := map[time.Duration]time.Duration{
		0:                20 * time.Minute,
		time.Second:      5 * time.Minute,
		10 * time.Minute: 10 * time.Minute,
		time.Hour:        20 * time.Minute,
	}
	for maxAge, want := range tests {
		for range 20 {
			if got := m.refreshDelay(maxAge); got > want || got < want*9/10 {
				t.Errorf("refreshDelay(%v) = %v, want within [%v, %v]", maxAge, got, want*9/10, want)
			}
		}
	}
}

// TestFailureBackoff: consecutive failures back off from about FailureBackoffInitial, jittered,
// growing, never beyond FailureBackoffMax; a success resets to the steady-state interval and
// the next failure starts from the beginning again.
func TestFailureBackoff(t *testing.T) {
	m := newManager(t, Options{Log: slog.New(slog.DiscardHandler)})
	m.SetSources(t.Context(), []Source{{Key: "k", URI: "https://idp.example/keys"}})
	bo := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(m.opts.FailureBackoffInitial),
		backoff.WithMaxInterval(m.opts.FailureBackoffMax),
		backoff.WithMaxElapsedTime(0))
	fail := &fetchError{reason: reasonConnect, err: errors.New("refused")}

	first := m.record("k", 0, fetched{}, fail, bo)
	if first < 30*time.Second || first > 90*time.Second {
		t.Errorf("first failure delay %v, want about 1m", first)
	}
	var last time.Duration
	for range 20 {
		last = m.record("k", 0, fetched{}, fail, bo)
		if last > time.Hour {
			t.Fatalf("failure delay %v over the 60m cap", last)
		}
	}
	if last < 30*time.Minute {
		t.Errorf("after 21 failures delay %v, want near the 60m cap", last)
	}
	ok := fetched{Keys: keySet{JSON: `{"keys":[]}`, Count: 1}}
	if d := m.record("k", 0, ok, nil, bo); d < 18*time.Minute {
		t.Errorf("delay after success %v, want the refresh interval", d)
	}
	if d := m.record("k", 0, fetched{}, fail, bo); d > 90*time.Second {
		t.Errorf("first failure after a success waits %v: back-off not reset", d)
	}
	if st := m.Status()[0]; st.ConsecutiveFailures != 1 || st.KeyCount != 1 {
		t.Errorf("status %+v", st)
	}
}

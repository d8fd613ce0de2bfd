package jwks

import (
	"testing"
	"time"
)

// TestManagerDuplicateKeysKeepLongestTimeout: rules naming one source with different
// timeouts share one fetcher that waits as long as the most patient of them (an unset
// timeout counting as the 5s default), whatever their order.
func TestManagerDuplicateKeysKeepLongestTimeout(t *testing.T) {
	m := newManager(t, testOptions(newIDP(t, serve(""))))
	const key = "https://issuer.example/keys"
	tests := map[string]struct {
		timeouts []time.Duration
		want     time.Duration
	}{
		"longest first":            {timeouts: []time.Duration{10 * time.Second, 2 * time.Second}, want: 10 * time.Second},
		"longest last":             {timeouts: []time.Duration{2 * time.Second, 0, 10 * time.Second}, want: 10 * time.Second},
		"unset beats shorter":      {timeouts: []time.Duration{2 * time.Second, 0}, want: defaultTimeout},
		"single keeps its timeout": {timeouts: []time.Duration{2 * time.Second}, want: 2 * time.Second},
	}
	for name, tc := range tests {
		// Sequential: each case replaces the source set of the one manager.
		var srcs []Source
		for _, d := range tc.timeouts {
			srcs = append(srcs, Source{Key: key, URI: key, Timeout: d})
		}
		m.SetSources(t.Context(), srcs)
		m.mu.Lock()
		got := m.entries[key].src.Timeout
		m.mu.Unlock()
		if got != tc.want {
			t.Errorf("%s: timeout %v, want %v", name, got, tc.want)
		}
	}
}

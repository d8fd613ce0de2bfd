package jwks

import (
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// record stores the outcome of a round for the source a worker of generation gen serves,
// reports it, and returns the delay before the next round. On failure the last good keys stay
// (SEMANTICS §2.5, istio/istio#58101); a success replaces them and is announced only if the
// canonical bytes changed.
func (m *Manager) record(key string, gen uint64, res fetched, err error, failures *backoff.ExponentialBackOff) time.Duration {
	now := time.Now()
	m.mu.Lock()
	e := m.entries[key]
	if e == nil || e.gen != gen {
		m.mu.Unlock()
		return 0 // superseded; the worker notices on its next round and exits
	}
	var delay time.Duration
	changed := false
	e.lastAttempt = now
	if res.URI != "" {
		e.uri = res.URI
	}
	if err != nil {
		e.failures++
		e.lastErr = err.Error()
		delay = min(failures.NextBackOff(), m.opts.FailureBackoffMax)
	} else {
		failures.Reset()
		changed = e.json != res.Keys.JSON
		e.json, e.keyCount = res.Keys.JSON, res.Keys.Count
		e.lastSuccess, e.lastErr, e.failures = now, "", 0
		delay = m.refreshDelay(res.MaxAge)
	}
	e.nextRefresh = now.Add(delay)
	src, uri, hasKeys, count := e.src, e.uri, e.json != "", e.failures
	m.mu.Unlock()

	log := m.log.With("issuer", src.Issuer, "uri", uri)
	switch {
	case err != nil:
		m.metrics.recordFailure(reasonOf(err))
		msg := "jwks fetch failed; keeping the last good keys"
		if !hasKeys {
			msg = "jwks fetch failed; no keys yet, tokens of this issuer are rejected"
		}
		log.Warn(msg, "err", err, "failures", count, "retry_in", delay.Round(time.Second))
	default:
		m.metrics.recordSuccess()
		m.logKeySet(log, res.Keys, changed)
		if changed {
			m.notify(key)
		}
	}
	return delay
}

// logKeySet reports a fetched set: its change at Info, and keys that were dropped or had
// private members stripped at Warn when the set changed (Debug otherwise, so a permanent
// quirk of an IdP does not warn every refresh). Never key material, only kids.
func (m *Manager) logKeySet(log *slog.Logger, ks keySet, changed bool) {
	warn := log.Debug
	if changed {
		log.Info("jwks keys changed", "keys", ks.Count)
		warn = log.Warn
	}
	if len(ks.Dropped) > 0 {
		warn("jwks keys Envoy cannot use were dropped", "dropped", ks.Dropped)
	}
	if ks.HadPrivate {
		warn("jwks served private key members; they were stripped")
	}
}

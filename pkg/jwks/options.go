package jwks

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configures a Manager. Every zero value stands for the documented default.
type Options struct {
	// Client does the HTTP requests. Nil: a client is built from CABundle, MaxRedirects and
	// DenyPrivateAddresses. A caller-supplied client keeps its transport; the manager still
	// bounds redirects and applies AllowedHosts, but cannot guard dialled addresses, so
	// DenyPrivateAddresses with a non-nil Client is an error.
	Client *http.Client
	// CABundle is PEM; its certificates are trusted in addition to the system roots.
	CABundle []byte
	// Refresh is the steady-state refresh interval (default 20m, Istio's
	// PILOT_JWT_PUB_KEY_REFRESH_INTERVAL).
	Refresh time.Duration
	// MinRefresh is the floor for a Cache-Control max-age (default 5m): max-age can shorten the
	// interval to no less than this, and never lengthens it beyond Refresh.
	MinRefresh time.Duration
	// FailureBackoffInitial and FailureBackoffMax bound the jittered exponential delay between
	// failed refresh rounds (defaults 1m and 60m, as Istio); a success resets it.
	FailureBackoffInitial, FailureBackoffMax time.Duration
	// FetchRetries is how many times one round retries a request that failed transiently
	// (connection error, timeout, 5xx, 429). Default 3; negative: none.
	FetchRetries int
	// RetryInitial is the first delay between those retries (default 250ms, doubling, capped
	// at 2s).
	RetryInitial time.Duration
	// MaxBodyBytes bounds a JWKS or discovery document (default 1 MiB).
	MaxBodyBytes int64
	// MaxRedirects bounds redirects per request (default 3; negative: follow none).
	MaxRedirects int
	// MaxConcurrentFetches bounds simultaneous fetches across all sources (default 16), so
	// that a start-up with many sources does not open hundreds of connections at once.
	MaxConcurrentFetches int
	// RemovedGrace is how long a source no policy references any more keeps its keys (default
	// 10m; negative: dropped at once). It stops refreshing immediately; the grace only spares a
	// policy that is deleted and re-created, or a source file briefly unparsable, a window in
	// which its issuer's tokens would all be rejected.
	RemovedGrace time.Duration
	// AllowedHosts, when non-empty, is the only hosts the manager fetches from (discovery,
	// JWKS and redirect targets alike). An entry is a host name or IP ("login.example.com"),
	// or "*.example.com" for any subdomain. Ports are not compared.
	AllowedHosts []string
	// DenyPrivateAddresses refuses connections to loopback, private, link-local (cloud
	// metadata), unspecified and multicast addresses, checked on the resolved address at dial
	// time so DNS answers and redirects cannot bypass it. It also disables proxies from the
	// environment, whose own address would otherwise be the one checked.
	DenyPrivateAddresses bool
	// Log receives lifecycle and fetch-failure logs (default slog.Default()).
	Log *slog.Logger
	// Registerer receives the metrics of metrics.go; nil: not registered.
	Registerer prometheus.Registerer
}

// Source is one key source the current policies reference.
type Source struct {
	// Key is model.JWKSSource(jwksUri, issuer): the name key sets are published under.
	Key string
	// URI is the jwksUri; empty: discovered from Issuer's OpenID configuration.
	URI string
	// Issuer is the rule's issuer, used for discovery and in logs.
	Issuer string
	// Timeout bounds each request for this source (the rule's timeout; default 5s). When
	// several rules share a source the caller may pass it once per rule: the longest wins.
	Timeout time.Duration
}

// SourceStatus is what the debug endpoint shows for one source.
type SourceStatus struct {
	Key, URI, Issuer string
	// Active is false while a source no policy references waits out RemovedGrace.
	Active bool
	// LastSuccess is zero when no fetch ever succeeded.
	LastSuccess, LastAttempt, NextRefresh time.Time
	// LastError is empty after a success.
	LastError           string
	ConsecutiveFailures int
	// KeyCount is the number of usable keys in the last good set.
	KeyCount int
}

const (
	defaultRefresh        = 20 * time.Minute
	defaultMinRefresh     = 5 * time.Minute
	defaultBackoffInitial = time.Minute
	defaultBackoffMax     = 60 * time.Minute
	defaultFetchRetries   = 3
	defaultRetryInitial   = 250 * time.Millisecond
	maxRetryInterval      = 2 * time.Second
	defaultMaxBody        = 1 << 20
	defaultMaxRedirects   = 3
	defaultConcurrency    = 16
	defaultRemovedGrace   = 10 * time.Minute
	defaultTimeout        = 5 * time.Second
)

// withDefaults fills the zero values. Negative counts and graces mean "none".
func (o Options) withDefaults() Options {
	o.Refresh = orDefault(o.Refresh, defaultRefresh)
	o.MinRefresh = orDefault(o.MinRefresh, defaultMinRefresh)
	o.FailureBackoffInitial = orDefault(o.FailureBackoffInitial, defaultBackoffInitial)
	o.FailureBackoffMax = orDefault(o.FailureBackoffMax, defaultBackoffMax)
	o.FailureBackoffMax = max(o.FailureBackoffMax, o.FailureBackoffInitial)
	o.RetryInitial = orDefault(o.RetryInitial, defaultRetryInitial)
	o.RemovedGrace = orDefault(o.RemovedGrace, defaultRemovedGrace)
	o.MaxBodyBytes = orDefault(o.MaxBodyBytes, defaultMaxBody)
	o.FetchRetries = max(orDefault(o.FetchRetries, defaultFetchRetries), 0)
	o.MaxRedirects = max(orDefault(o.MaxRedirects, defaultMaxRedirects), 0)
	o.MaxConcurrentFetches = orDefault(o.MaxConcurrentFetches, defaultConcurrency)
	if o.MaxConcurrentFetches < 1 {
		o.MaxConcurrentFetches = 1
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

package jwks

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the manager's Prometheus metrics.
//
// Per-URI figures (last success, last error, next refresh, key count) are in Status, the
// debug endpoint, and not in labels: URIs are written by policy authors, so a uri label would
// let any of them create series without bound, and STYLE.md keeps labels to small fixed sets.
// Alerting needs only two facts, both label-free: how stale the stalest key set is
// (controlplane_jwks_last_success_timestamp_seconds, the oldest last success among sources in
// use that have keys) and how many sources are failing or never loaded
// (controlplane_jwks_sources{state}); the debug endpoint then names them.
type metrics struct {
	fetches *prometheus.CounterVec // result = success | failure
	errors  *prometheus.CounterVec // reason = the reason* constants of errors.go

	sourcesDesc     *prometheus.Desc
	lastSuccessDesc *prometheus.Desc
	gauges          func() (states map[string]int, oldestSuccess float64)
}

// Source states of controlplane_jwks_sources.
const (
	stateFresh    = "fresh"    // the last round succeeded
	stateStale    = "stale"    // keys from an earlier success; the last round failed
	stateUnloaded = "unloaded" // never succeeded: tokens of its issuer are rejected
)

func newMetrics(reg prometheus.Registerer, gauges func() (map[string]int, float64)) (*metrics, error) {
	m := &metrics{
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controlplane_jwks_fetches_total",
			Help: "JWKS refresh rounds (discovery plus key set fetch), by result.",
		}, []string{"result"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controlplane_jwks_fetch_errors_total",
			Help: "Failed JWKS refresh rounds, by reason.",
		}, []string{"reason"}),
		sourcesDesc: prometheus.NewDesc("controlplane_jwks_sources",
			"JWKS sources referenced by policies, by state (fresh, stale, unloaded).", []string{"state"}, nil),
		lastSuccessDesc: prometheus.NewDesc("controlplane_jwks_last_success_timestamp_seconds",
			"Oldest last-success time among referenced JWKS sources that have keys (Unix seconds; 0 when none). Per-source times are on the debug endpoint.", nil, nil),
		gauges: gauges,
	}
	for _, r := range []string{"success", "failure"} {
		m.fetches.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.fetches, m.errors, m} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Describe and Collect make the gauges computed at scrape time from the manager's state, so
// they can never drift from it.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.sourcesDesc
	ch <- m.lastSuccessDesc
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	states, oldest := m.gauges()
	for _, s := range []string{stateFresh, stateStale, stateUnloaded} {
		ch <- prometheus.MustNewConstMetric(m.sourcesDesc, prometheus.GaugeValue, float64(states[s]), s)
	}
	ch <- prometheus.MustNewConstMetric(m.lastSuccessDesc, prometheus.GaugeValue, oldest)
}

func (m *metrics) recordFailure(reason string) {
	m.fetches.WithLabelValues("failure").Inc()
	m.errors.WithLabelValues(reason).Inc()
}

func (m *metrics) recordSuccess() {
	m.fetches.WithLabelValues("success").Inc()
}

package snapshot

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the serving layer's Prometheus series. Labels are bounded: type_url (five xDS
// types), role (gateway, sidecar, unknown), kind (config error kinds) and reason.
type metrics struct {
	connected    *prometheus.GaugeVec     // role
	pushes       *prometheus.CounterVec   // type_url
	pushLatency  *prometheus.HistogramVec // type_url
	nacks        *prometheus.CounterVec   // type_url
	buildSeconds prometheus.Histogram
	builds       *prometheus.CounterVec // reason
	configErrors *prometheus.CounterVec // kind
	groups       prometheus.Gauge
	unproven     prometheus.Counter
	idleGCs      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "controlplane_xds_connected_proxies",
			Help: "ADS streams open now, by proxy role.",
		}, []string{"role"}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controlplane_xds_pushes_total",
			Help: "Discovery responses sent, by type URL.",
		}, []string{"type_url"}),
		pushLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "controlplane_xds_push_duration_seconds",
			Help:    "Time from a group's new snapshot being set to a proxy ACKing it, by type URL.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"type_url"}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controlplane_xds_nacks_total",
			Help: "Responses a proxy rejected, by type URL.",
		}, []string{"type_url"}),
		buildSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "controlplane_snapshot_build_duration_seconds",
			Help:    "Time to translate, validate and hash one group's snapshot.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		builds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controlplane_snapshot_builds_total",
			Help: "Group snapshot builds by outcome (reason: changed, unchanged, failed).",
		}, []string{"reason"}),
		configErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controlplane_snapshot_config_errors_total",
			Help: "Built resources that were not served (a translation bug) or bad node metadata, by kind.",
		}, []string{"kind"}),
		groups: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "controlplane_snapshot_groups",
			Help: "Proxy groups held in memory.",
		}),
		unproven: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "controlplane_xds_unproven_streams_total",
			Help: "ADS streams whose peer proved no identity (no verified client certificate): they get no workload key.",
		}),
		idleGCs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "controlplane_idle_gc_total",
			Help: "Garbage collections run after a push had finished rather than during the next (--gc-between-pushes).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.connected, m.pushes, m.pushLatency, m.nacks,
		m.buildSeconds, m.builds, m.configErrors, m.groups, m.unproven, m.idleGCs} {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}

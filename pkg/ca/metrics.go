package ca

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the CA's Prometheus metrics. Expiries are computed at scrape time from the CA's
// state; no label names an identity (STYLE.md §11), so the workload figure is the earliest
// NotAfter of all cached certificates: an alert on it catches a stuck rotation loop.
type metrics struct {
	issued *prometheus.CounterVec // kind = workload | bootstrap | serving

	rootExpiryDesc     *prometheus.Desc
	workloadExpiryDesc *prometheus.Desc
	expiries           func() (root, workload time.Time)
}

func newMetrics(reg prometheus.Registerer, expiries func() (root, workload time.Time)) (*metrics, error) {
	m := &metrics{
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controlplane_ca_certificates_issued_total",
			Help: "Certificates signed by the built-in CA, by kind (workload, bootstrap, serving).",
		}, []string{"kind"}),
		rootExpiryDesc: prometheus.NewDesc("controlplane_ca_root_expiry_timestamp_seconds",
			"Earliest NotAfter of the CA's signing certificate and its roots (Unix seconds); no certificate outlives it.", nil, nil),
		workloadExpiryDesc: prometheus.NewDesc("controlplane_ca_workload_cert_expiry_min_timestamp_seconds",
			"Earliest NotAfter among the cached workload certificates (Unix seconds; 0 when none).", nil, nil),
		expiries: expiries,
	}
	for _, k := range []string{kindWorkload, kindBootstrap, kindServing} {
		m.issued.WithLabelValues(k)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.issued, m} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Describe and Collect implement prometheus.Collector for the two expiry gauges.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.rootExpiryDesc
	ch <- m.workloadExpiryDesc
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	root, workload := m.expiries()
	ch <- prometheus.MustNewConstMetric(m.rootExpiryDesc, prometheus.GaugeValue, unixSeconds(root))
	ch <- prometheus.MustNewConstMetric(m.workloadExpiryDesc, prometheus.GaugeValue, unixSeconds(workload))
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.Unix())
}

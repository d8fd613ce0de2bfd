package kube

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// metrics are the Kubernetes source's Prometheus metrics. Their names differ from the file
// source's (controlplane_config_*) so both sources can register on one registry.
type metrics struct {
	events       *prometheus.CounterVec // kind
	problems     *prometheus.GaugeVec   // kind, severity
	objects      *prometheus.GaugeVec   // kind
	builds       prometheus.Histogram
	statusWrites *prometheus.CounterVec // result
	leader       prometheus.Gauge
	secretWatch  prometheus.Gauge
}

// Results of controlplane_kube_status_writes_total.
const (
	writeOK       = "success"
	writeConflict = "conflict" // the object changed under us; retried
	writeError    = "error"
)

var metricKinds = []model.Kind{
	model.KindRequestAuthentication, model.KindAuthorizationPolicy, model.KindPeerAuthentication,
	model.KindGateway, model.KindVirtualService, model.KindDestinationRule, model.KindServiceEntry,
	model.KindWorkloadEntry, model.KindSecret,
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controlplane_kube_events_total",
			Help: "Informer events received from the Kubernetes API server, by object kind.",
		}, []string{"kind"}),
		problems: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "controlplane_kube_config_problems",
			Help: "Validation problems of the Istio objects in the cluster after the last build, by kind and severity.",
		}, []string{"kind", "severity"}),
		objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "controlplane_kube_config_objects",
			Help: "Objects in the last store built from the cluster, by kind (Services and Pods count as ServiceEntry and WorkloadEntry).",
		}, []string{"kind"}),
		builds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "controlplane_kube_build_duration_seconds",
			Help:    "Time to build a store from the informer caches.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8),
		}),
		statusWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controlplane_kube_status_writes_total",
			Help: "Status updates of Istio objects sent by this replica as leader, by result.",
		}, []string{"result"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "controlplane_kube_status_leader",
			Help: "1 while this replica holds the status-writer lease.",
		}),
		secretWatch: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "controlplane_kube_secret_watches",
			Help: "Single-Secret watches running for credentials named by a credentialName that are not of type kubernetes.io/tls.",
		}),
	}
	for _, r := range []string{writeOK, writeConflict, writeError} {
		m.statusWrites.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.events, m.problems, m.objects, m.builds, m.statusWrites, m.leader, m.secretWatch} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// record sets the gauges from a built store and its problems.
func (m *metrics) record(store *model.Store, problems []model.Problem, took time.Duration) {
	m.builds.Observe(took.Seconds())
	counts := map[[2]string]int{}
	for _, p := range problems {
		counts[[2]string{string(p.Kind), p.Severity.String()}]++
	}
	objs := map[model.Kind]int{}
	for _, o := range store.Objects() {
		objs[o.ObjectMeta().Kind]++
	}
	for _, k := range metricKinds {
		for _, sev := range []model.Severity{model.SeverityError, model.SeverityWarning} {
			m.problems.WithLabelValues(string(k), sev.String()).Set(float64(counts[[2]string{string(k), sev.String()}]))
		}
		m.objects.WithLabelValues(string(k)).Set(float64(objs[k]))
	}
}

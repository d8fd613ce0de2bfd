package file

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// metrics are the file source's Prometheus metrics.
//
// Problems are a gauge of what is wrong now, not a counter of how often it was seen: the same
// broken file is reported on every reload, so a counter would grow with edit activity, while
// the operator's question is "is the configuration in the directory broken right now?"
// (alert on controlplane_config_problems{severity="error"} > 0; the log and `validate`
// name the file and field). Reloads are counted by result so a stuck or failing watcher shows.
type metrics struct {
	problems *prometheus.GaugeVec   // kind, severity
	objects  *prometheus.GaugeVec   // kind
	reloads  *prometheus.CounterVec // result
}

// Reload results of controlplane_config_reloads_total.
const (
	reloadOK       = "success"  // every file decoded and validated cleanly
	reloadProblems = "problems" // published, with problems reported
	reloadError    = "error"    // the directory could not be read; nothing published
)

// metricKinds bounds the kind label: problem kinds come from user input (an unknown kind
// such as "ConfigMap"), which must not create series.
var metricKinds = []model.Kind{
	model.KindRequestAuthentication, model.KindAuthorizationPolicy, model.KindPeerAuthentication,
	model.KindGateway, model.KindVirtualService, model.KindDestinationRule, model.KindServiceEntry,
	model.KindWorkloadEntry, model.KindSecret,
}

const kindOther = "other" // files that do not parse and kinds we do not read

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		problems: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "controlplane_config_problems",
			Help: "Problems in the configuration directory after the last reload, by object kind and severity.",
		}, []string{"kind", "severity"}),
		objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "controlplane_config_objects",
			Help: "Objects loaded from the configuration directory, by kind.",
		}, []string{"kind"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controlplane_config_reloads_total",
			Help: "Reloads of the configuration directory, by result (success, problems, error).",
		}, []string{"result"}),
	}
	for _, r := range []string{reloadOK, reloadProblems, reloadError} {
		m.reloads.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.problems, m.objects, m.reloads} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// record sets the gauges from a published store and its problems.
func (m *metrics) record(store *model.Store, problems []model.Problem) {
	counts := map[[2]string]int{}
	for _, p := range problems {
		counts[[2]string{metricKind(p.Kind), p.Severity.String()}]++
	}
	for _, k := range append(metricKindLabels(), kindOther) {
		for _, sev := range []model.Severity{model.SeverityError, model.SeverityWarning} {
			m.problems.WithLabelValues(k, sev.String()).Set(float64(counts[[2]string{k, sev.String()}]))
		}
	}
	objs := map[string]int{}
	for _, o := range store.Objects() {
		objs[string(o.ObjectMeta().Kind)]++
	}
	for _, k := range metricKindLabels() {
		m.objects.WithLabelValues(k).Set(float64(objs[k]))
	}
	result := reloadOK
	if len(problems) > 0 {
		result = reloadProblems
	}
	m.reloads.WithLabelValues(result).Inc()
}

func metricKindLabels() []string {
	out := make([]string, len(metricKinds))
	for i, k := range metricKinds {
		out[i] = string(k)
	}
	return out
}

func metricKind(k model.Kind) string {
	for _, known := range metricKinds {
		if k == known {
			return string(k)
		}
	}
	return kindOther
}

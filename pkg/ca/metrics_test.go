package ca

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics(t *testing.T) {
	clock := newClock()
	reg := prometheus.NewPedanticRegistry()
	root := makeCert(t, certSpec{isCA: true, notBefore: t0.Add(-time.Hour), notAfter: t0.Add(1000 * time.Hour)})
	certPath, keyPath := root.write(t, t.TempDir(), "root")
	c := newTestCA(t, clock, Options{CertFile: certPath, KeyFile: keyPath, Registerer: reg})

	gauge := func(name string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatalf("metric %s not gathered", name)
		return 0
	}
	if got := gauge("controlplane_ca_workload_cert_expiry_min_timestamp_seconds"); got != 0 {
		t.Errorf("workload expiry with no certificates = %v, want 0", got)
	}
	if got, want := gauge("controlplane_ca_root_expiry_timestamp_seconds"), float64(root.cert.NotAfter.Unix()); got != want {
		t.Errorf("root expiry = %v, want %v", got, want)
	}

	c.Certificate(Identity{Namespace: "a", ServiceAccount: "a"})
	clock.Set(t0.Add(time.Hour))
	c.Certificate(Identity{Namespace: "b", ServiceAccount: "b"})
	c.IssueBootstrap(Identity{Namespace: "c", ServiceAccount: "c"}, 0)
	if got, want := gauge("controlplane_ca_workload_cert_expiry_min_timestamp_seconds"), float64(t0.Add(24*time.Hour).Unix()); got != want {
		t.Errorf("workload expiry = %v, want the earliest NotAfter %v", got, want)
	}
	issued := func(kind string) float64 {
		return testutil.ToFloat64(c.metrics.issued.WithLabelValues(kind))
	}
	if issued(kindWorkload) != 2 || issued(kindBootstrap) != 1 || issued(kindServing) != 0 {
		t.Errorf("issued workload/bootstrap/serving = %v/%v/%v, want 2/1/0",
			issued(kindWorkload), issued(kindBootstrap), issued(kindServing))
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("metric lint: %v %v", problems, err)
	}
}

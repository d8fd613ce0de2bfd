package e2e

import (
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/plainenvoy/controlplane/pkg/ca"
)

// TestWorkloadCertificateRotation: when the CA re-issues one identity's certificate and the
// serving layer is told (RotateIdentities, what `serve` calls from the CA's rotation loop),
// the proxy of that identity receives a new "default" secret with a new certificate, and the
// proxy of another identity receives nothing.
func TestWorkloadCertificateRotation(t *testing.T) {
	var offset atomic.Int64 // the CA's clock runs ahead of the wall clock by this much
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	// One-hour certificates, re-issued at half life.
	authority, srv := startMTLSServer(t, ca.Options{WorkloadTTL: time.Hour, Now: now})
	httpbin := ca.Identity{Namespace: "foo", ServiceAccount: "httpbin"}
	sleep := ca.Identity{Namespace: "foo", ServiceAccount: "sleep"}
	// Client certificates are issued now: the server checks them against the wall clock.
	bootstrap := map[ca.Identity]*ca.Certificate{}
	for _, id := range []ca.Identity{httpbin, sleep} {
		cert, err := authority.IssueBootstrap(id, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		bootstrap[id] = cert
	}
	connect := func(id ca.Identity) (*Client, *big.Int) {
		node := Node("proxy-"+id.ServiceAccount, "sidecar", id.Namespace, map[string]string{"app": id.ServiceAccount}, id.ServiceAccount)
		c := dialTLSWith(t, srv.Addr, authority, bootstrap[id], node)
		if err := c.Subscribe(resourcev3.SecretType, []string{"default", "ROOTCA"}, "", nil); err != nil {
			t.Fatal(err)
		}
		r := next(t, c)
		if err := c.ACK(r); err != nil {
			t.Fatal(err)
		}
		return c, defaultLeaf(t, r).SerialNumber
	}
	hc, hSerial := connect(httpbin) // due for re-issue at +30m
	offset.Store(int64(20 * time.Minute))
	sc, sSerial := connect(sleep) // due at +50m
	if hSerial.Cmp(sSerial) == 0 {
		t.Fatal("two identities share a certificate serial")
	}

	offset.Store(int64(31 * time.Minute))
	// Only httpbin's certificate is due: asking for it re-issues it, as the CA's loop would.
	if _, err := authority.Certificate(httpbin); err != nil {
		t.Fatal(err)
	}
	builds := metricValue(t, srv, buildsTotal)
	srv.RotateIdentities([]string{"foo/httpbin"})
	r := next(t, hc)
	if got := defaultLeaf(t, r).SerialNumber; got.Cmp(hSerial) == 0 {
		t.Fatalf("after rotation httpbin still has certificate serial %v", got)
	}
	if _, ok := r.Resources["ROOTCA"]; !ok {
		t.Fatalf("rotated response %v lost the trust bundle", slicesOf(r.Resources))
	}
	if err := hc.ACK(r); err != nil {
		t.Fatal(err)
	}
	expectNothing(t, sc)
	expectNothing(t, hc)
	if got := metricValue(t, srv, buildsTotal) - builds; got != 1 {
		t.Fatalf("rotating one identity made %v group builds, want 1", got)
	}

	// Rotating an identity whose certificate was not re-issued rebuilds its group to the same
	// content: nothing is pushed.
	srv.RotateIdentities([]string{"foo/sleep"})
	expectNothing(t, sc)
	if cert, err := authority.Certificate(sleep); err != nil || defaultSerial(t, cert).Cmp(sSerial) != 0 {
		t.Fatalf("sleep's certificate changed without being due (err %v)", err)
	}
}

// defaultSerial is the serial number of a CA-cached certificate's leaf.
func defaultSerial(t *testing.T, cert *ca.Certificate) *big.Int {
	t.Helper()
	return parseLeaf(t, cert.CertChainPEM).SerialNumber
}

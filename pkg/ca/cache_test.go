package ca

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestCertificateCachedUntilRefreshAt(t *testing.T) {
	clock := newClock()
	c := newTestCA(t, clock, Options{})
	id := Identity{Namespace: "ns", ServiceAccount: "sa"}
	first, err := c.Certificate(id)
	if err != nil {
		t.Fatal(err)
	}
	// An explicit trust domain equal to the CA's is the same cache entry.
	same, err := c.Certificate(Identity{TrustDomain: "cluster.local", Namespace: "ns", ServiceAccount: "sa"})
	if err != nil || same != first {
		t.Fatalf("second call: got a different certificate (err %v)", err)
	}
	if got := c.NextRotation(); !got.Equal(t0.Add(12 * time.Hour)) {
		t.Fatalf("NextRotation = %v, want t0+12h", got)
	}
	clock.Set(t0.Add(12*time.Hour - time.Second))
	if got, _ := c.Certificate(id); got != first {
		t.Fatal("re-issued before RefreshAt")
	}
	clock.Set(t0.Add(12 * time.Hour))
	second, err := c.Certificate(id)
	if err != nil {
		t.Fatal(err)
	}
	if second == first || string(second.KeyPEM) == string(first.KeyPEM) {
		t.Fatal("not re-issued with a new key at RefreshAt")
	}
	if !second.NotAfter.Equal(t0.Add(36 * time.Hour)) {
		t.Errorf("rotated NotAfter = %v, want t0+36h", second.NotAfter)
	}

	c.Forget(id)
	if !c.NextRotation().IsZero() {
		t.Error("Forget left the identity cached")
	}
}

func TestRunReportsExactlyTheRotatedIdentities(t *testing.T) {
	clock := newClock()
	c := newTestCA(t, clock, Options{})
	a := Identity{Namespace: "ns", ServiceAccount: "a"}
	b := Identity{Namespace: "ns", ServiceAccount: "b"}
	late := Identity{Namespace: "other", ServiceAccount: "c"}
	issue := func(id Identity) *Certificate {
		t.Helper()
		cert, err := c.Certificate(id)
		if err != nil {
			t.Fatal(err)
		}
		return cert
	}
	certA, certB := issue(a), issue(b)
	clock.Set(t0.Add(time.Hour))
	certLate := issue(late)

	reports := make(chan []Identity, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx, func(ids []Identity) { reports <- ids }) }()
	want := func(ids ...Identity) {
		t.Helper()
		c.signal() // the fake clock moved; real timers do not see it
		for i := range ids {
			ids[i].TrustDomain = "cluster.local"
		}
		select {
		case got := <-reports:
			if !slices.Equal(got, ids) {
				t.Fatalf("rotated %v, want %v", got, ids)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no rotation reported, want %v", ids)
		}
	}

	clock.Set(t0.Add(12 * time.Hour))
	want(a, b)
	if issue(a) == certA || issue(b) == certB || issue(late) != certLate {
		t.Fatal("cache does not match the report")
	}

	clock.Set(t0.Add(13 * time.Hour))
	want(late)

	// A re-issue by Certificate (a proxy connecting after RefreshAt) is reported too, so the
	// identity's other proxies get the new secret; b, due at the same time, comes with it.
	clock.Set(t0.Add(24 * time.Hour))
	issue(a)
	want(a, b)

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if len(reports) != 0 {
		t.Fatalf("unexpected extra report %v (first issues must not count as rotations)", <-reports)
	}
}

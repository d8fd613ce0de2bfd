package ca

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"
	"time"
)

func TestIdentityFromPeer(t *testing.T) {
	clock := newClock()
	trustDomains := []string{"cluster.local", "old.example"}
	mesh := newTestCA(t, clock, Options{TrustDomain: "cluster.local"})
	alias := newTestCA(t, clock, Options{TrustDomain: "old.example"})
	foreign := newTestCA(t, clock, Options{TrustDomain: "evil.example"})
	root := makeCert(t, certSpec{isCA: true, notBefore: t0.Add(-time.Hour), notAfter: t0.Add(time.Hour)})
	handMade := func(uris ...string) *x509.Certificate {
		return makeCert(t, certSpec{parent: root, notBefore: t0.Add(-time.Hour), notAfter: t0.Add(time.Hour), uris: uris}).cert
	}
	issued := func(c *CA, ns, sa string) *x509.Certificate {
		cert, err := c.Issue(Identity{Namespace: ns, ServiceAccount: sa})
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := parseLeaf(t, cert.CertChainPEM)
		return leaf
	}
	verified := func(leaf *x509.Certificate) tls.ConnectionState {
		return tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}, VerifiedChains: [][]*x509.Certificate{{leaf}}}
	}

	for name, tc := range map[string]struct {
		state   tls.ConnectionState
		want    Identity
		wantErr error // nil: any error when want is zero
	}{
		"trust domain": {state: verified(issued(mesh, "shop", "cart")),
			want: Identity{"cluster.local", "shop", "cart"}},
		"alias trust domain": {state: verified(issued(alias, "shop", "cart")),
			want: Identity{"old.example", "shop", "cart"}},
		"first URI SAN counts": {state: verified(handMade("spiffe://cluster.local/ns/a/sa/b", "spiffe://cluster.local/ns/c/sa/d")),
			want: Identity{"cluster.local", "a", "b"}},
		"other trust domain":    {state: verified(issued(foreign, "shop", "cart"))},
		"non-SPIFFE URI SAN":    {state: verified(handMade("https://cluster.local/ns/a/sa/b"))},
		"SPIFFE ID, wrong form": {state: verified(handMade("spiffe://cluster.local/ns/a/sa/b/extra"))},
		"no URI SAN":            {state: verified(handMade())},
		"no certificate":        {state: tls.ConnectionState{}, wantErr: ErrNoClientCertificate},
		"unverified certificate": {state: tls.ConnectionState{PeerCertificates: []*x509.Certificate{issued(mesh, "a", "b")}},
			wantErr: ErrNoClientCertificate},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := IdentityFromPeer(tc.state, trustDomains)
			if tc.want != (Identity{}) {
				if err != nil || got != tc.want {
					t.Fatalf("got %v, %v; want %v", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted as %v", got)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestParseSPIFFEID(t *testing.T) {
	good := "spiffe://cluster.local/ns/foo/sa/bar"
	id, err := ParseSPIFFEID(good)
	if err != nil || id != (Identity{"cluster.local", "foo", "bar"}) || id.String() != good {
		t.Fatalf("ParseSPIFFEID(%q) = %v, %v", good, id, err)
	}
	for _, bad := range []string{
		"spiffe://cluster.local/ns/foo/sa/",
		"spiffe://cluster.local/ns//sa/bar",
		"spiffe://cluster.local/sa/bar/ns/foo",
		"spiffe://cluster.local/ns/foo/sa/bar/",
		"spiffe://cluster.local:443/ns/foo/sa/bar",
		"spiffe://Cluster.Local/ns/foo/sa/bar",
		"spiffe://cluster.local/ns/foo/sa/bar?x=1",
		"spiffe://cluster.local/ns/foo/sa/b%2Fr",
		"spiffe://user@cluster.local/ns/foo/sa/bar",
		"spiffe:cluster.local/ns/foo/sa/bar",
		"cluster.local/ns/foo/sa/bar",
	} {
		if id, err := ParseSPIFFEID(bad); err == nil {
			t.Errorf("ParseSPIFFEID(%q) = %v, want error", bad, id)
		}
	}
}

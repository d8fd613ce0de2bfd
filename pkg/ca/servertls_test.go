package ca

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

const serverName = "controlplane.test"

// handshake runs one TLS handshake over loopback and returns the server's view: the identity
// the client proved, or the server's handshake error.
func handshake(t *testing.T, serverCfg, client *tls.Config) (Identity, error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		id  Identity
		err error
	}
	res := make(chan result, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			res <- result{err: err}
			return
		}
		defer conn.Close()
		tc := conn.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			res <- result{err: err}
			return
		}
		id, err := IdentityFromPeer(tc.ConnectionState(), []string{"cluster.local"})
		res <- result{id, err}
		tc.Write([]byte("ok")) // lets the client see the end of a TLS 1.3 handshake
	}()
	client.ServerName = serverName
	conn, err := tls.Dial("tcp", ln.Addr().String(), client)
	if err == nil {
		conn.Read(make([]byte, 2))
		conn.Close()
	}
	r := <-res
	return r.id, r.err
}

func TestServerTLSRequireClientCert(t *testing.T) {
	c := newTestCA(t, nil, Options{})
	cfg, err := c.ServerTLS(ServerTLSOptions{DNSNames: []string{serverName}, RequireClientCert: true})
	if err != nil {
		t.Fatal(err)
	}
	roots := poolOf(t, c.Root())
	workload, err := c.Issue(Identity{Namespace: "shop", ServiceAccount: "cart"})
	if err != nil {
		t.Fatal(err)
	}
	good, err := workload.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	self := selfSignedTLS(t)

	id, err := handshake(t, cfg, &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{good}})
	if err != nil || id != (Identity{"cluster.local", "shop", "cart"}) {
		t.Fatalf("CA-issued client: identity %v, err %v", id, err)
	}
	if id, err := handshake(t, cfg, &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{self}}); err == nil {
		t.Fatalf("self-signed client accepted as %v", id)
	}
	if id, err := handshake(t, cfg, &tls.Config{RootCAs: roots}); err == nil {
		t.Fatalf("client without certificate accepted as %v", id)
	}
	// The client verified the serving certificate against Root() for serverName above.
}

func TestServerTLSVerifyIfGiven(t *testing.T) {
	c := newTestCA(t, nil, Options{})
	cfg, err := c.ServerTLS(ServerTLSOptions{DNSNames: []string{serverName}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = handshake(t, cfg, &tls.Config{RootCAs: poolOf(t, c.Root())})
	if !errors.Is(err, ErrNoClientCertificate) {
		t.Fatalf("client without certificate: err = %v, want ErrNoClientCertificate", err)
	}
	if _, err := handshake(t, cfg, &tls.Config{RootCAs: poolOf(t, c.Root()), Certificates: []tls.Certificate{selfSignedTLS(t)}}); err == nil {
		t.Fatal("self-signed client certificate accepted")
	}
}

func TestServerTLSRotatesServingCertificate(t *testing.T) {
	clock := newClock()
	c := newTestCA(t, clock, Options{})
	cfg, err := c.ServerTLS(ServerTLSOptions{DNSNames: []string{serverName}, TTL: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	first, _ := cfg.GetCertificate(nil)
	leaf, err := x509.ParseCertificate(first.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != serverName || len(leaf.URIs) != 0 {
		t.Errorf("serving SANs: dns %v uri %v", leaf.DNSNames, leaf.URIs)
	}
	clock.Set(t0.Add(time.Hour - time.Second))
	if again, _ := cfg.GetCertificate(nil); again != first {
		t.Fatal("serving certificate re-issued before half life")
	}
	clock.Set(t0.Add(time.Hour))
	if again, _ := cfg.GetCertificate(nil); again == first {
		t.Fatal("serving certificate not re-issued at half life")
	}
	if _, err := c.ServerTLS(ServerTLSOptions{}); err == nil {
		t.Error("ServerTLS without names succeeded")
	}
}

// TestIdentityFromGRPC reads the identity on a real gRPC server built on ServerTLS.
func TestIdentityFromGRPC(t *testing.T) {
	c := newTestCA(t, nil, Options{})
	cfg, err := c.ServerTLS(ServerTLSOptions{DNSNames: []string{serverName}})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan error, 4)
	var got Identity
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(cfg)),
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			id, err := IdentityFromGRPC(ctx, []string{c.TrustDomain()})
			got = id
			seen <- err
			return h(ctx, req)
		}))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); srv.Serve(ln) }()
	defer func() { srv.Stop(); <-served }()

	boot, err := c.IssueBootstrap(Identity{Namespace: "gw", ServiceAccount: "ingress"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := boot.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	call := func(certs []tls.Certificate) error {
		creds := credentials.NewTLS(&tls.Config{ServerName: serverName, RootCAs: poolOf(t, c.Root()), Certificates: certs})
		conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			t.Fatalf("health check: %v", err)
		}
		return <-seen
	}
	if err := call([]tls.Certificate{pair}); err != nil || got != (Identity{"cluster.local", "gw", "ingress"}) {
		t.Fatalf("with bootstrap certificate: identity %v, err %v", got, err)
	}
	if err := call(nil); !errors.Is(err, ErrNoClientCertificate) {
		t.Fatalf("without certificate: err = %v, want ErrNoClientCertificate", err)
	}
}

func selfSignedTLS(t *testing.T) tls.Certificate {
	t.Helper()
	now := time.Now()
	self := makeCert(t, certSpec{notBefore: now.Add(-time.Hour), notAfter: now.Add(time.Hour),
		uris: []string{"spiffe://cluster.local/ns/shop/sa/cart"}})
	return tls.Certificate{Certificate: [][]byte{self.cert.Raw}, PrivateKey: self.key}
}

package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"slices"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/plainenvoy/controlplane/pkg/ca"
	"github.com/plainenvoy/controlplane/pkg/snapshot"
)

// TestWorkloadKeyOnlyToProvenIdentity: over ADS with mutual TLS, a sidecar whose client
// certificate proves the namespace/service account its node claims receives its workload
// certificate and key ("default") and the trust bundle ("ROOTCA") over SDS; a sidecar with no
// client certificate, with another identity's certificate, or that forges the server's
// "proven" marker in its metadata receives the trust bundle only.
func TestWorkloadKeyOnlyToProvenIdentity(t *testing.T) {
	authority, srv := startMTLSServer(t, ca.Options{})

	sidecar := func(id string) *corev3.Node {
		return Node(id, "sidecar", "foo", map[string]string{"app": "httpbin"}, "httpbin")
	}
	forged := sidecar("forger")
	forged.Metadata.Fields["controlplane.internal/proven-identity"] = structpb.NewStringValue("foo/httpbin")

	cases := []struct {
		name       string
		clientCert *ca.Identity
		node       *corev3.Node
		want       []string
	}{
		{"proven", &ca.Identity{Namespace: "foo", ServiceAccount: "httpbin"}, sidecar("proven"), []string{"ROOTCA", "default"}},
		{"no certificate", nil, sidecar("anonymous"), []string{"ROOTCA"}},
		{"another identity", &ca.Identity{Namespace: "foo", ServiceAccount: "sleep"}, sidecar("impostor"), []string{"ROOTCA"}},
		{"forged marker", nil, forged, []string{"ROOTCA"}},
	}
	unproven := 0 // streams with no client certificate prove no identity at all
	for _, tc := range cases {
		if tc.clientCert == nil {
			unproven++
		}
		t.Run(tc.name, func(t *testing.T) {
			c := dialTLS(t, srv.Addr, authority, tc.clientCert, tc.node)
			if err := c.Subscribe(resourcev3.SecretType, []string{"default", "ROOTCA"}, "", nil); err != nil {
				t.Fatal(err)
			}
			r := next(t, c)
			got := slicesOf(r.Resources)
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("secrets %v, want %v", got, tc.want)
			}
			ps := proxyStatus(t, srv.Server, tc.node.GetId(), func(snapshot.ProxyStatus) bool { return true })
			if proven := slices.Contains(tc.want, "default"); (ps.IdentityNote == "") != proven {
				t.Errorf("status identity %q, note %q: want a note exactly when no key is sent", ps.Identity, ps.IdentityNote)
			}
			if _, ok := r.Resources["default"]; ok {
				leaf := defaultLeaf(t, r)
				if len(leaf.URIs) != 1 || leaf.URIs[0].String() != "spiffe://cluster.local/ns/foo/sa/httpbin" {
					t.Fatalf("workload certificate for %v", leaf.URIs)
				}
			}
		})
	}
	// A certificate of another identity is a proof, of the wrong identity: not counted here.
	if got := metricValue(t, srv, "controlplane_xds_unproven_streams_total"); got != float64(unproven) {
		t.Fatalf("unproven streams metric = %v, want %d", got, unproven)
	}
}

// startMTLSServer serves ADS over TLS with a CA of opts (Dir defaults to a temporary one) as
// identity source, requesting client certificates; the store is empty.
func startMTLSServer(t *testing.T, opts ca.Options) (*ca.CA, *testServer) {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	authority, err := ca.New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	serverTLS, err := authority.ServerTLS(ca.ServerTLSOptions{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	srv := startServerTLS(t, snapshot.Options{Translate: handMade,
		Identity: ca.IdentitySource{CA: authority, TrustDomains: []string{"cluster.local"}}}, serverTLS)
	srv.SetStore(storeWith())
	return authority, srv
}

// defaultLeaf is the leaf certificate of the "default" secret of an SDS response.
func defaultLeaf(t *testing.T, r Response) *x509.Certificate {
	t.Helper()
	raw, ok := r.Resources["default"]
	if !ok {
		t.Fatalf("no default secret in %v", slicesOf(r.Resources))
	}
	var s tlsv3.Secret
	if err := proto.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return parseLeaf(t, s.GetTlsCertificate().GetCertificateChain().GetInlineBytes())
}

// dialTLS opens an ADS stream over TLS, presenting a certificate for id when it is set.
func dialTLS(t *testing.T, addr string, authority *ca.CA, id *ca.Identity, node *corev3.Node) *Client {
	t.Helper()
	var cert *ca.Certificate
	if id != nil {
		var err error
		if cert, err = authority.IssueBootstrap(*id, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	return dialTLSWith(t, addr, authority, cert, node)
}

// dialTLSWith opens an ADS stream over TLS, presenting cert when it is set.
func dialTLSWith(t *testing.T, addr string, authority *ca.CA, cert *ca.Certificate, node *corev3.Node) *Client {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(authority.Root())
	cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if cert != nil {
		tc, err := cert.TLSCertificate()
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{tc}
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c, err := Open(t.Context(), conn, node, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func parseLeaf(t *testing.T, pemBytes []byte) *x509.Certificate {
	t.Helper()
	block, _ := pemDecode(pemBytes)
	leaf, err := x509.ParseCertificate(block)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func pemDecode(b []byte) ([]byte, []byte) {
	block, rest := pem.Decode(b)
	if block == nil {
		return nil, rest
	}
	return block.Bytes, rest
}

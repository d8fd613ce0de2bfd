package translate_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

func TestHandshakePermissive(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "mesh")
	serverRes, clientRes := meshPair(t, "PERMISSIVE")
	chains := listener(t, serverRes, "virtualInbound").GetFilterChains()

	// A plaintext caller reaches the application through the raw_buffer chain, on HTTP and TCP.
	for _, port := range []uint32{8080, 9000} {
		c := selectChain(chains, port, "", "raw_buffer", nil)
		if c == nil || c.GetTransportSocket() != nil {
			t.Errorf("port %d: plaintext client selected %v, want the plaintext chain", port, c)
		}
	}
	// A non-mesh TLS client of the TCP port (no mesh ALPN) passes through untouched.
	if c := selectChain(chains, 9000, "db.example", "tls", []string{"postgresql"}); c == nil || c.GetTransportSocket() != nil {
		t.Errorf("TCP port: non-mesh TLS client selected %v, want the passthrough chain", c)
	}
	// The HTTP port has no passthrough: non-mesh TLS finds no chain.
	if c := selectChain(chains, 8080, "", "tls", []string{"h2"}); c != nil {
		t.Errorf("HTTP port: non-mesh TLS client selected %s, want none", c.GetName())
	}
	// A mesh client is terminated with mTLS on both ports.
	for _, port := range []uint32{8080, 9000} {
		up := meshUpstream(t, clientRes, map[uint32]string{8080: "8000", 9000: "9000"}[port])
		chain := selectChain(chains, port, up.GetSni(), "tls", up.GetCommonTlsContext().GetAlpnProtocols())
		if chain == nil || chain.GetTransportSocket() == nil {
			t.Fatalf("port %d: mesh client selected %v, want the mTLS chain", port, chain)
		}
		serverCfg := serverConfig(t, downstream(t, chain), meshSDS(ca, ca.keyPair(t, "spiffe://cluster.local/ns/foo/sa/httpbin")))
		clientCfg := clientConfig(t, up, meshSDS(ca, ca.keyPair(t, "spiffe://cluster.local/ns/foo/sa/sleep")))
		srv, _, err := handshake(t, serverCfg, clientCfg)
		if err != nil {
			t.Fatalf("port %d: mTLS handshake: %v", port, err)
		}
		if got := srv.PeerCertificates[0].URIs[0].String(); got != "spiffe://cluster.local/ns/foo/sa/sleep" {
			t.Errorf("port %d: server sees %s", port, got)
		}
		if srv.NegotiatedProtocol == "istio-peer-exchange" {
			t.Errorf("port %d: negotiated istio-peer-exchange (D1)", port)
		}
	}
}

func TestHandshakeRotatedCertificate(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "mesh")
	serverRes, clientRes := meshPair(t, "STRICT")
	up := meshUpstream(t, clientRes, "8000")
	chain := selectChain(listener(t, serverRes, "virtualInbound").GetFilterChains(), 8080, "", "tls", up.GetCommonTlsContext().GetAlpnProtocols())
	serverSDS := meshSDS(ca, ca.keyPair(t, "spiffe://cluster.local/ns/foo/sa/httpbin"))
	serverCfg := serverConfig(t, downstream(t, chain), serverSDS)
	clientCfg := clientConfig(t, up, meshSDS(ca, ca.keyPair(t, "spiffe://cluster.local/ns/foo/sa/sleep")))
	for i := range 2 {
		want := ca.keyPair(t, "spiffe://cluster.local/ns/foo/sa/httpbin")
		serverSDS.certs["default"] = want // SDS pushes a new "default"
		_, cli, err := handshake(t, serverCfg, clientCfg)
		if err != nil {
			t.Fatalf("handshake %d: %v", i, err)
		}
		if got := cli.PeerCertificates[0].SerialNumber; got.Cmp(want.Leaf.SerialNumber) != 0 {
			t.Errorf("handshake %d: server presented serial %v, want the rotated %v", i, got, want.Leaf.SerialNumber)
		}
	}
}

// gatewayWithSecret translates an ingress gateway with one HTTPS server using credential
// "web-cert", whose Secret (and CA) come from the store.
func gatewayWithSecret(t *testing.T, ca *testCA, mode string) translate.Resources {
	t.Helper()
	certPEM, keyPEM := ca.issue(t, "web.example.com")
	gw := fmt.Sprintf(`
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: istio-system}
spec:
  selector: {istio: ingress}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["web.example.com"]
    tls: {mode: %s, credentialName: web-cert}
`, mode)
	objs, problems := file.Decode("gw.yaml", []byte(gw))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	objs = append(objs, &model.Secret{
		Meta: model.Meta{Kind: model.KindSecret, Namespace: "istio-system", Name: "web-cert"},
		Type: "kubernetes.io/tls",
		Data: map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM, "ca.crt": ca.pem},
	})
	res, problems := translate.Proxy(translate.Inputs{
		Store: model.NewStore(model.Mesh{}, objs),
		Proxy: model.Proxy{Role: model.RoleGateway, Namespace: "istio-system", Labels: map[string]string{"istio": "ingress"}},
	})
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	return res
}

// servedSDS resolves SDS names to the secrets the translation serves, as Envoy would receive them.
func servedSDS(t *testing.T, r translate.Resources) *sds {
	t.Helper()
	s := &sds{certs: map[string]*tls.Certificate{}, cas: map[string]*x509.CertPool{}}
	for _, sec := range r.Secrets {
		switch v := sec.GetType().(type) {
		case *tlsv3.Secret_TlsCertificate:
			pair, err := tls.X509KeyPair(v.TlsCertificate.GetCertificateChain().GetInlineBytes(), v.TlsCertificate.GetPrivateKey().GetInlineBytes())
			if err != nil {
				t.Fatalf("secret %s: %v", sec.GetName(), err)
			}
			s.certs[sec.GetName()] = &pair
		case *tlsv3.Secret_ValidationContext:
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(v.ValidationContext.GetTrustedCa().GetInlineBytes()) {
				t.Fatalf("secret %s: no CA", sec.GetName())
			}
			s.cas[sec.GetName()] = pool
		}
	}
	return s
}

func TestHandshakeGateway(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "web-ca")
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	client := func(cert *tls.Certificate) *tls.Config {
		c := &tls.Config{ServerName: "web.example.com", RootCAs: roots, NextProtos: []string{"h2", "http/1.1"}}
		if cert != nil {
			c.Certificates = []tls.Certificate{*cert}
		}
		return c
	}
	tests := map[string]struct {
		mode    string
		cert    *tls.Certificate
		wantErr bool
	}{
		"SIMPLE, no client certificate":      {mode: "SIMPLE"},
		"MUTUAL, client certificate from CA": {mode: "MUTUAL", cert: ca.keyPair(t, "client.example.com")},
		"MUTUAL, no client certificate":      {mode: "MUTUAL", wantErr: true},
		"MUTUAL, certificate from other CA":  {mode: "MUTUAL", cert: newTestCA(t, "x").keyPair(t, "client.example.com"), wantErr: true},
		"OPTIONAL_MUTUAL, no certificate":    {mode: "OPTIONAL_MUTUAL"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := gatewayWithSecret(t, ca, tc.mode)
			l := listener(t, res, "0.0.0.0_443")
			if len(l.GetListenerFilters()) == 0 || l.GetListenerFilters()[0].GetName() != "envoy.filters.listener.tls_inspector" {
				t.Fatal("gateway TLS listener has no tls_inspector")
			}
			chain := selectChain(l.GetFilterChains(), 443, "web.example.com", "tls", []string{"h2", "http/1.1"})
			if chain == nil {
				t.Fatal("no chain for SNI web.example.com")
			}
			_, cli, err := handshake(t, serverConfig(t, downstream(t, chain), servedSDS(t, res)), client(tc.cert))
			if tc.wantErr != (err != nil) {
				t.Fatalf("handshake error = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && cli.NegotiatedProtocol != "h2" {
				t.Errorf("ALPN = %q, want h2", cli.NegotiatedProtocol)
			}
		})
	}
}

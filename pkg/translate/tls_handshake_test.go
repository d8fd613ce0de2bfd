package translate_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

const meshObjects = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin, namespace: foo}
spec:
  hosts: ["httpbin.foo.svc.cluster.local"]
  location: MESH_INTERNAL
  ports:
  - {number: 8000, name: http, targetPort: 8080}
  - {number: 9000, name: tcp, protocol: TCP}
  resolution: STATIC
  workloadSelector: {labels: {app: httpbin}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: httpbin-1, namespace: foo}
spec: {address: 10.0.1.1, labels: {app: httpbin}, serviceAccount: httpbin}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: foo}
spec: {mtls: {mode: MODE}}
`

// meshPair translates the sidecars of httpbin (server) and sleep (client) in namespace foo.
func meshPair(t *testing.T, mode string) (server, client translate.Resources) {
	t.Helper()
	objs, problems := file.Decode("mesh.yaml", []byte(strings.ReplaceAll(meshObjects, "MODE", mode)))
	if len(problems) > 0 {
		t.Fatalf("decode: %v", problems)
	}
	store := model.NewStore(model.Mesh{TrustDomainAliases: []string{"old.local"}}, objs)
	proxy := func(app, ip string) model.Proxy {
		return model.Proxy{Role: model.RoleSidecar, Namespace: "foo", Labels: map[string]string{"app": app}, ServiceAccount: app, IP: ip}
	}
	server, _ = translate.Proxy(translate.Inputs{Store: store, Proxy: proxy("httpbin", "10.0.1.1")})
	client, _ = translate.Proxy(translate.Inputs{Store: store, Proxy: proxy("sleep", "10.0.9.9")})
	return server, client
}

func listener(t *testing.T, r translate.Resources, name string) *listenerv3.Listener {
	t.Helper()
	for _, l := range r.Listeners {
		if l.GetName() == name {
			return l
		}
	}
	t.Fatalf("no listener %q", name)
	return nil
}

func downstream(t *testing.T, c *listenerv3.FilterChain) *tlsv3.DownstreamTlsContext {
	t.Helper()
	d := &tlsv3.DownstreamTlsContext{}
	if err := c.GetTransportSocket().GetTypedConfig().UnmarshalTo(d); err != nil {
		t.Fatalf("chain %s: %v", c.GetName(), err)
	}
	return d
}

// meshUpstream returns the auto-mTLS context of the client's cluster to httpbin, after
// checking that httpbin's endpoint is tagged for it.
func meshUpstream(t *testing.T, r translate.Resources, port string) *tlsv3.UpstreamTlsContext {
	t.Helper()
	name := "outbound|" + port + "||httpbin.foo.svc.cluster.local"
	var c *clusterv3.Cluster
	for _, x := range r.Clusters {
		if x.GetName() == name {
			c = x
		}
	}
	for _, cla := range r.Endpoints {
		if cla.GetClusterName() == name {
			md := cla.GetEndpoints()[0].GetLbEndpoints()[0].GetMetadata().GetFilterMetadata()["envoy.transport_socket_match"]
			if got := md.GetFields()["tlsMode"].GetStringValue(); got != "istio" {
				t.Fatalf("endpoint tlsMode = %q, want istio", got)
			}
		}
	}
	for _, m := range c.GetTransportSocketMatches() {
		if m.GetName() == "tlsMode-istio" {
			u := &tlsv3.UpstreamTlsContext{}
			if err := m.GetTransportSocket().GetTypedConfig().UnmarshalTo(u); err != nil {
				t.Fatal(err)
			}
			return u
		}
	}
	t.Fatalf("cluster %s has no tlsMode-istio match", name)
	return nil
}

// handshake runs both sides over loopback TCP (buffered, so an alert never blocks its
// sender); it returns both views and the first error of either side.
func handshake(t *testing.T, serverCfg, clientCfg *tls.Config) (tls.ConnectionState, tls.ConnectionState, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		state tls.ConnectionState
		err   error
	}
	done := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		srv := tls.Server(c, serverCfg)
		err = srv.Handshake()
		if err == nil {
			_, err = srv.Write([]byte{1})
		}
		done <- result{srv.ConnectionState(), err}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	cli := tls.Client(raw, clientCfg)
	cerr := cli.Handshake()
	if cerr == nil {
		// TLS 1.3 clients finish before the server has checked their certificate; reading
		// the server's first byte surfaces its verdict.
		_, cerr = cli.Read(make([]byte, 1))
	}
	if cerr != nil {
		_ = raw.Close()
	}
	res := <-done
	if res.err != nil {
		return res.state, cli.ConnectionState(), res.err
	}
	return res.state, cli.ConnectionState(), cerr
}

// meshSDS resolves the workload SDS names for one proxy: its certificate and the mesh roots.
func meshSDS(ca *testCA, cert *tls.Certificate) *sds {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	s := &sds{certs: map[string]*tls.Certificate{}, cas: map[string]*x509.CertPool{"ROOTCA": pool}}
	if cert != nil {
		s.certs["default"] = cert
	}
	return s
}

func TestHandshakeStrictMeshMTLS(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "mesh")
	serverRes, clientRes := meshPair(t, "STRICT")
	chains := listener(t, serverRes, "virtualInbound").GetFilterChains()
	up := meshUpstream(t, clientRes, "8000")
	if sel := selectChain(chains, 8080, up.GetSni(), "raw_buffer", nil); sel != nil {
		t.Fatalf("STRICT: a plaintext client selected chain %s, want none (connection closed)", sel.GetName())
	}
	chain := selectChain(chains, 8080, up.GetSni(), "tls", up.GetCommonTlsContext().GetAlpnProtocols())
	if chain == nil || chain.GetTransportSocket() == nil {
		t.Fatalf("STRICT: mesh client selected %v, want the mTLS chain", chain)
	}
	serverSDS := meshSDS(ca, ca.keyPair(t, "spiffe://cluster.local/ns/foo/sa/httpbin"))
	serverCfg := serverConfig(t, downstream(t, chain), serverSDS)
	other := newTestCA(t, "other-mesh")

	tests := map[string]struct {
		cert    *tls.Certificate
		wantErr bool
	}{
		"mesh workload":                {cert: ca.keyPair(t, "spiffe://cluster.local/ns/foo/sa/sleep")},
		"trust domain alias":           {cert: ca.keyPair(t, "spiffe://old.local/ns/foo/sa/sleep")},
		"no client certificate":        {cert: &tls.Certificate{}, wantErr: true},
		"other CA, same SPIFFE ID":     {cert: other.keyPair(t, "spiffe://cluster.local/ns/foo/sa/sleep"), wantErr: true},
		"same CA, other trust domain":  {cert: ca.keyPair(t, "spiffe://other.domain/ns/foo/sa/sleep"), wantErr: true},
		"same CA, DNS name, no SPIFFE": {cert: ca.keyPair(t, "sleep.foo.svc"), wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := clientConfig(t, up, meshSDS(ca, tc.cert))
			srv, _, err := handshake(t, serverCfg, cfg)
			if tc.wantErr {
				if err == nil {
					t.Fatal("handshake succeeded, want it refused")
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			if got := srv.PeerCertificates[0].URIs[0].String(); got != tc.cert.Leaf.URIs[0].String() {
				t.Errorf("server sees peer %s, want %s", got, tc.cert.Leaf.URIs[0])
			}
		})
	}
}

func TestHandshakeClientRefusesWrongServerIdentity(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "mesh")
	serverRes, clientRes := meshPair(t, "STRICT")
	up := meshUpstream(t, clientRes, "8000")
	chain := selectChain(listener(t, serverRes, "virtualInbound").GetFilterChains(), 8080, "", "tls", up.GetCommonTlsContext().GetAlpnProtocols())
	// The server presents a valid mesh certificate, but not httpbin's identity.
	serverCfg := serverConfig(t, downstream(t, chain), meshSDS(ca, ca.keyPair(t, "spiffe://cluster.local/ns/foo/sa/impostor")))
	clientCfg := clientConfig(t, up, meshSDS(ca, ca.keyPair(t, "spiffe://cluster.local/ns/foo/sa/sleep")))
	if _, _, err := handshake(t, serverCfg, clientCfg); err == nil {
		t.Fatal("client accepted a server whose SPIFFE ID is not the service's")
	}
}

package envoy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"

	"github.com/plainenvoy/controlplane/test/e2e"
)

// fakeSidecar stands in for Envoy where there is none: it reads a harness bootstrap, connects
// where its ADS cluster points with the client certificate, trust bundle and SNI it names,
// sends its node, subscribes as Envoy does (CDS, LDS, then EDS and RDS for what they name, SDS
// for the mesh secrets) and ACKs every response.
type fakeSidecar struct {
	client *e2e.Client
	mu     sync.Mutex
	err    error
}

func dialFakeSidecar(ctx context.Context, bootstrapPath string) (*fakeSidecar, error) {
	bs, err := readBootstrap(bootstrapPath)
	if err != nil {
		return nil, err
	}
	xds, err := adsCluster(bs)
	if err != nil {
		return nil, err
	}
	tc, err := adsTLS(xds)
	if err != nil {
		return nil, err
	}
	ctc := tc.GetCommonTlsContext()
	cert, err := tls.LoadX509KeyPair(ctc.GetTlsCertificates()[0].GetCertificateChain().GetFilename(),
		ctc.GetTlsCertificates()[0].GetPrivateKey().GetFilename())
	if err != nil {
		return nil, err
	}
	rootPEM, err := os.ReadFile(ctc.GetValidationContext().GetTrustedCa().GetFilename())
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		return nil, fmt.Errorf("%s: no certificate in the trusted CA file", bootstrapPath)
	}
	sa := xds.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	creds := credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots,
		ServerName: tc.GetSni(), MinVersion: tls.VersionTLS12})
	conn, err := grpc.NewClient(fmt.Sprintf("%s:%d", sa.GetAddress(), sa.GetPortValue()), grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, err
	}
	c, err := e2e.Open(ctx, conn, bs.GetNode(), false)
	if err != nil {
		conn.Close()
		return nil, err
	}
	f := &fakeSidecar{client: c}
	go func() {
		f.fail(f.run())
		conn.Close()
	}()
	return f, nil
}

func (f *fakeSidecar) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

// Err is why the fake stopped, nil while it runs.
func (f *fakeSidecar) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *fakeSidecar) Close() { f.client.Close() }

func (f *fakeSidecar) run() error {
	c := f.client
	for _, sub := range []struct {
		typ   string
		names []string
	}{{resourcev3.ClusterType, nil}, {resourcev3.ListenerType, nil}, {resourcev3.SecretType, []string{"ROOTCA", "default"}}} {
		if err := c.Subscribe(sub.typ, sub.names, "", nil); err != nil {
			return err
		}
	}
	subscribed := map[string][]string{}
	for {
		var r e2e.Response
		select {
		case r = <-c.Responses:
		case <-c.Done():
			return fmt.Errorf("ADS stream ended: %v", c.Err())
		}
		if err := c.ACK(r); err != nil {
			return err
		}
		typ, names, err := dependentNames(r)
		if err != nil {
			return err
		}
		// Names that change later would need a re-subscription on the latest nonce; the
		// example's clusters and routes keep their names across steps.
		if len(names) == 0 || subscribed[typ] != nil {
			if prev := subscribed[typ]; prev != nil && !slices.Equal(prev, names) {
				return fmt.Errorf("%s names changed from %v to %v", typ, prev, names)
			}
			continue
		}
		subscribed[typ] = names
		if err := c.Subscribe(typ, names, "", nil); err != nil {
			return err
		}
	}
}

// dependentNames: the EDS names a CDS response needs, the RDS names an LDS response needs.
func dependentNames(r e2e.Response) (string, []string, error) {
	var typ string
	var names []string
	for _, raw := range r.Resources {
		switch r.TypeURL {
		case resourcev3.ClusterType:
			c := &clusterv3.Cluster{}
			if err := proto.Unmarshal(raw, c); err != nil {
				return "", nil, err
			}
			if c.GetType() == clusterv3.Cluster_EDS {
				typ, names = resourcev3.EndpointType, append(names, c.GetName())
			}
		case resourcev3.ListenerType:
			l := &listenerv3.Listener{}
			if err := proto.Unmarshal(raw, l); err != nil {
				return "", nil, err
			}
			for _, ch := range l.GetFilterChains() {
				for _, fl := range ch.GetFilters() {
					hcm := &hcmv3.HttpConnectionManager{}
					if fl.GetTypedConfig().UnmarshalTo(hcm) == nil && hcm.GetRds() != nil {
						typ, names = resourcev3.RouteType, append(names, hcm.GetRds().GetRouteConfigName())
					}
				}
			}
		}
	}
	slices.Sort(names)
	return typ, slices.Compact(names), nil
}

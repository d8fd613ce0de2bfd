package envoy

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3" // the xds cluster's protocol options
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"
)

// exampleBootstrap is the sidecar bootstrap every harness bootstrap is derived from.
const exampleBootstrap = "examples/mesh/bootstrap-mtls.yaml"

// readBootstrap parses an Envoy bootstrap (YAML or JSON) as Envoy would: an unknown field
// is an error, and so is a value its validation rules refuse.
func readBootstrap(path string) (*bootstrapv3.Bootstrap, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	bs := &bootstrapv3.Bootstrap{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(js, bs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := bs.ValidateAll(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return bs, nil
}

// sidecarBootstrap derives a sidecar's bootstrap from the example's: the same ADS-over-mutual-
// TLS cluster, moved to this world's ADS port and to the certificate files `controlplane ca
// issue` wrote to certDir; the node of this workload, with its inbound listen ports; its own
// admin port.
func (w *meshWorld) sidecarBootstrap(wl *workload, certDir string) (*bootstrapv3.Bootstrap, error) {
	bs, err := readBootstrap(filepath.Join(w.root, exampleBootstrap))
	if err != nil {
		return nil, err
	}
	if err := w.setNode(bs.GetNode(), wl); err != nil {
		return nil, err
	}
	xds, err := adsCluster(bs)
	if err != nil {
		return nil, err
	}
	lbs := xds.GetLoadAssignment().GetEndpoints()
	if len(lbs) != 1 || len(lbs[0].GetLbEndpoints()) != 1 {
		return nil, fmt.Errorf("%s: cluster %s: want exactly one endpoint", exampleBootstrap, xds.GetName())
	}
	lbs[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().PortSpecifier =
		&corev3.SocketAddress_PortValue{PortValue: uint32(w.adsPort)}
	if err := moveCertFiles(xds, certDir); err != nil {
		return nil, err
	}
	bs.GetAdmin().GetAddress().GetSocketAddress().PortSpecifier = &corev3.SocketAddress_PortValue{PortValue: uint32(wl.adminPort)}
	return bs, bs.ValidateAll()
}

// setNode keeps the example node's contract (role, interception: explicit, the tlsMode label)
// and fills in this workload.
func (w *meshWorld) setNode(node *corev3.Node, wl *workload) error {
	md := node.GetMetadata().AsMap()
	labels, ok := md["labels"].(map[string]any)
	if !ok || md["interception"] != "explicit" {
		return fmt.Errorf("%s: node metadata without labels or interception: explicit", exampleBootstrap)
	}
	labels["app"] = wl.app
	md["namespace"], md["service_account"] = wl.namespace, wl.serviceAccount
	inbound := map[string]any{}
	for target, listen := range wl.inbound {
		inbound[strconv.Itoa(int(target))] = float64(listen)
	}
	md["inbound_ports"] = inbound
	// Outbound listeners on the pod's own address, so each call goes through the caller's
	// sidecar and no other (all sidecars share this host).
	md["outbound_address"] = wl.address
	s, err := structpb.NewStruct(md)
	if err != nil {
		return err
	}
	node.Id = fmt.Sprintf("sidecar~%s~%s-v1.%s~%s.svc.cluster.local", wl.address, wl.app, wl.namespace, wl.namespace)
	node.Cluster, node.Metadata = wl.name(), s
	return nil
}

// adsCluster is the static cluster the bootstrap's ADS config names.
func adsCluster(bs *bootstrapv3.Bootstrap) (*clusterv3.Cluster, error) {
	svcs := bs.GetDynamicResources().GetAdsConfig().GetGrpcServices()
	if len(svcs) != 1 || svcs[0].GetEnvoyGrpc() == nil {
		return nil, fmt.Errorf("bootstrap: want one envoy_grpc ADS service")
	}
	for _, c := range bs.GetStaticResources().GetClusters() {
		if c.GetName() == svcs[0].GetEnvoyGrpc().GetClusterName() {
			return c, nil
		}
	}
	return nil, fmt.Errorf("bootstrap: no static cluster %q for ADS", svcs[0].GetEnvoyGrpc().GetClusterName())
}

// moveCertFiles points the ADS cluster's certs/… file names into certDir.
func moveCertFiles(xds *clusterv3.Cluster, certDir string) error {
	tc, err := adsTLS(xds)
	if err != nil {
		return err
	}
	move := func(ds *corev3.DataSource) error {
		name, ok := strings.CutPrefix(ds.GetFilename(), "certs/")
		if !ok {
			return fmt.Errorf("%s: ADS TLS file %q is not under certs/", exampleBootstrap, ds.GetFilename())
		}
		ds.Specifier = &corev3.DataSource_Filename{Filename: filepath.Join(certDir, name)}
		return nil
	}
	ctx := tc.GetCommonTlsContext()
	if len(ctx.GetTlsCertificates()) != 1 {
		return fmt.Errorf("%s: ADS TLS: want one client certificate", exampleBootstrap)
	}
	for _, ds := range []*corev3.DataSource{ctx.GetTlsCertificates()[0].GetCertificateChain(),
		ctx.GetTlsCertificates()[0].GetPrivateKey(), ctx.GetValidationContext().GetTrustedCa()} {
		if err := move(ds); err != nil {
			return err
		}
	}
	a, err := anypb.New(tc)
	if err != nil {
		return err
	}
	xds.GetTransportSocket().ConfigType = &corev3.TransportSocket_TypedConfig{TypedConfig: a}
	return nil
}

// adsTLS is the UpstreamTlsContext of the ADS cluster.
func adsTLS(xds *clusterv3.Cluster) (*tlsv3.UpstreamTlsContext, error) {
	tc := &tlsv3.UpstreamTlsContext{}
	if err := xds.GetTransportSocket().GetTypedConfig().UnmarshalTo(tc); err != nil {
		return nil, fmt.Errorf("%s: cluster %s: no UpstreamTlsContext: %v", exampleBootstrap, xds.GetName(), err)
	}
	return tc, nil
}

// writeSidecarBootstraps issues each sidecar's ADS client certificate with the binary's `ca
// issue` (creating the CA that `serve --ca-dir` then reuses) and writes its bootstrap.
func (w *meshWorld) writeSidecarBootstraps(bin string) (map[string]string, error) {
	paths := map[string]string{}
	for _, wl := range w.sidecars() {
		certDir := filepath.Join(w.dir, "certs", wl.name())
		out, err := runCommand(bin, "ca", "issue", "--ca-dir", w.caDir, "--namespace", wl.namespace,
			"--service-account", wl.serviceAccount, "--out", certDir)
		if err != nil {
			return nil, fmt.Errorf("ca issue: %v\n%s", err, out)
		}
		bs, err := w.sidecarBootstrap(wl, certDir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", wl.name(), err)
		}
		js, err := protojson.MarshalOptions{Multiline: true}.Marshal(bs)
		if err != nil {
			return nil, err
		}
		paths[wl.name()] = filepath.Join(w.dir, wl.name()+".bootstrap.json")
		if err := os.WriteFile(paths[wl.name()], js, 0o644); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

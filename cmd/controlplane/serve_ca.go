package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"

	"github.com/plainenvoy/controlplane/pkg/ca"
	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/snapshot"
	"github.com/plainenvoy/controlplane/pkg/sources/kube"
)

// serveCAFlags enable the built-in CA: workload certificates over SDS for proxies that prove
// their identity on a mutual-TLS ADS connection.
type serveCAFlags struct {
	ca          caFlags
	workloadTTL time.Duration
	serverNames []string
	secret      string // namespace/name of the Secret holding the root
	audience    string // of service-account tokens proving identity, with Kubernetes
	publishRoot bool   // the root in an istio-ca-root-cert ConfigMap in every namespace
}

func (f *serveCAFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.ca.dir, "ca-dir", "", "enable the built-in CA, its root generated on first start and kept in this directory (ca-cert.pem, ca-key.pem)")
	fs.StringVar(&f.ca.certFile, "ca-cert", "", "enable the built-in CA with this root or intermediate certificate (PEM) instead of --ca-dir")
	fs.StringVar(&f.ca.keyFile, "ca-key", "", "key of --ca-cert (PEM)")
	fs.StringVar(&f.ca.chainFile, "ca-chain", "", "chain from --ca-cert's issuer up to the root (PEM), for an intermediate")
	fs.StringVar(&f.secret, "ca-secret", "", "enable the built-in CA with its root kept in this Kubernetes Secret (namespace/name; keys ca-cert.pem, ca-key.pem), created once and shared by every replica (needs --kubeconfig or --in-cluster)")
	fs.StringVar(&f.audience, "ads-token-audience", "istio-ca", "with the CA and Kubernetes: a proxy may also prove its identity with a projected service-account token for this audience, sent as 'authorization: Bearer <token>' gRPC metadata on its ADS stream (verified with TokenReview); empty disables")
	fs.BoolVar(&f.publishRoot, "publish-root-configmap", false, "with the CA and Kubernetes: the replica holding the status Lease writes the root certificate to the ConfigMap istio-ca-root-cert (key root-cert.pem) in every namespace (needs namespaces list/watch and configmaps get/create/update)")
	fs.DurationVar(&f.workloadTTL, "workload-cert-ttl", 24*time.Hour, "lifetime of workload certificates; they are re-issued at half life")
	fs.StringSliceVar(&f.serverNames, "ads-server-name", nil,
		"with the CA and no --tls-cert: serve ADS over TLS with a certificate from the CA for these DNS names or IPs; a proxy presenting a client certificate from the CA (controlplane ca issue) proves its identity")
}

func (f *serveCAFlags) enabled() bool { return f.ca.dir != "" || f.ca.certFile != "" || f.secret != "" }

// setupCA builds the CA, the identity source for the serving layer and, when asked, the ADS
// server TLS configuration. It returns nils when the CA is not enabled.
func (f *serveCAFlags) setupCA(ctx context.Context, mesh model.Mesh, kf kubeFlags, log *slog.Logger, reg prometheus.Registerer) (*ca.CA, snapshot.IdentitySource, *tls.Config, error) {
	if !f.enabled() {
		if len(f.serverNames) > 0 {
			return nil, nil, nil, fmt.Errorf("--ads-server-name needs the built-in CA (--ca-dir or --ca-cert)")
		}
		return nil, nil, nil, nil
	}
	opts := f.ca.options()
	if f.secret != "" {
		store, err := secretRootStore(f.secret, kf)
		if err != nil {
			return nil, nil, nil, err
		}
		opts.Store = store
	}
	opts.TrustDomain, opts.WorkloadTTL, opts.Log, opts.Registerer = mesh.TrustDomain, f.workloadTTL, log, reg
	c, err := ca.New(ctx, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	identity := provenBy{IdentitySource: ca.IdentitySource{CA: c, TrustDomains: append([]string{mesh.TrustDomain}, mesh.TrustDomainAliases...)}}
	if kf.enabled() && f.audience != "" {
		cfg, err := kf.restConfig()
		if err != nil {
			return nil, nil, nil, err
		}
		client, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, nil, nil, err
		}
		identity.token = &kube.TokenProver{Client: client, Audiences: []string{f.audience}}
	}
	if len(f.serverNames) == 0 {
		return c, identity, nil, nil
	}
	var sto ca.ServerTLSOptions
	for _, n := range f.serverNames {
		if ip := net.ParseIP(n); ip != nil {
			sto.IPAddresses = append(sto.IPAddresses, ip)
		} else {
			sto.DNSNames = append(sto.DNSNames, n)
		}
	}
	cfg, err := c.ServerTLS(sto)
	return c, identity, cfg, err
}

// rotateLoop runs the CA's rotation loop and rebuilds the groups of the rotated identities.
func rotateLoop(c *ca.CA, srv *snapshot.Server) func(context.Context) error {
	return func(ctx context.Context) error {
		return c.Run(ctx, func(ids []ca.Identity) {
			names := make([]string, len(ids))
			for i, id := range ids {
				names[i] = id.Namespace + "/" + id.ServiceAccount
			}
			srv.RotateIdentities(names)
		})
	}
}

// secretRootStore is the Kubernetes Secret store of --ca-secret namespace/name.
func secretRootStore(ref string, kf kubeFlags) (ca.RootStore, error) {
	ns, name, ok := strings.Cut(ref, "/")
	if !ok || ns == "" || name == "" {
		return nil, fmt.Errorf("--ca-secret %q: want namespace/name", ref)
	}
	if !kf.enabled() {
		return nil, fmt.Errorf("--ca-secret needs --kubeconfig or --in-cluster")
	}
	cfg, err := kf.restConfig()
	if err != nil {
		return nil, fmt.Errorf("--ca-secret: %w", err)
	}
	return kube.NewSecretRootStore(cfg, ns, name)
}

// provenBy proves a stream's identity by its verified client certificate and, failing that,
// by a Kubernetes service-account token; secrets come from the CA either way.
type provenBy struct {
	ca.IdentitySource
	token *kube.TokenProver
}

func (p provenBy) Prove(ctx context.Context) (string, string, error) {
	ns, sa, err := p.IdentitySource.Prove(ctx)
	if err == nil || p.token == nil {
		return ns, sa, err
	}
	return p.token.Prove(ctx)
}

// rootPublisher returns the loop that publishes the root to every namespace, or nil when not
// asked for. Leadership comes from the Kubernetes source's status Lease.
func (f *serveCAFlags) rootPublisher(c *ca.CA, sources []source, kf kubeFlags, log *slog.Logger) (func(context.Context) error, error) {
	if !f.publishRoot || c == nil {
		return nil, nil
	}
	var ks *kube.Source
	for _, s := range sources {
		if k, ok := s.(*kube.Source); ok {
			ks = k
		}
	}
	if ks == nil || kf.leaseNamespace == "" {
		return nil, fmt.Errorf("--publish-root-configmap needs the Kubernetes source with a status Lease (--lease-namespace)")
	}
	cfg, err := kf.restConfig()
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	p := &kube.RootPublisher{Client: client, Root: c.Root(), Leader: ks.Leader, Log: log.With("component", "root-publisher")}
	return p.Run, nil
}

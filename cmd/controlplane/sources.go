package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
	"github.com/plainenvoy/controlplane/pkg/sources/kube"
)

// kubeFlags select and configure the Kubernetes source.
type kubeFlags struct {
	kubeconfig       string
	inCluster        bool
	statusWriter     bool
	leaseNamespace   string
	leaseName        string
	identity         string
	secretNamespaces []string
}

func (f *kubeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "read policy, services and pods from the cluster of this kubeconfig")
	fs.BoolVar(&f.inCluster, "in-cluster", false, "read policy, services and pods from the cluster the control plane runs in")
	fs.BoolVar(&f.statusWriter, "status-writer", true, "write validation problems to each Istio object's status (only the replica holding the Lease writes)")
	fs.StringVar(&f.leaseNamespace, "lease-namespace", os.Getenv("POD_NAMESPACE"), "namespace of the status writer's Lease (default $POD_NAMESPACE)")
	fs.StringVar(&f.leaseName, "lease-name", "controlplane-status", "name of the status writer's Lease")
	fs.StringVar(&f.identity, "identity", os.Getenv("POD_NAME"), "leader-election identity (default $POD_NAME, else the host name)")
	fs.StringSliceVar(&f.secretNamespaces, "secret-namespaces", nil, "watch Secrets (kubernetes.io/tls, and those a credentialName names) only in these namespaces (where gateways run); default all")
}

func (f *kubeFlags) enabled() bool { return f.kubeconfig != "" || f.inCluster }

func (f *kubeFlags) restConfig() (*rest.Config, error) {
	if f.inCluster {
		return rest.InClusterConfig()
	}
	return clientcmd.BuildConfigFromFlags("", f.kubeconfig)
}

// source is what serve runs: the file source, the Kubernetes source, or both.
type source interface {
	Run(ctx context.Context, publish func(*model.Store, []model.Problem)) error
}

// newSources builds the configured sources; at least one is required.
func newSources(mf meshFlags, kf kubeFlags, fileDebounce time.Duration, log *slog.Logger, reg prometheus.Registerer) ([]source, error) {
	var out []source
	if mf.configDir != "" {
		src, err := file.New(file.Options{Dir: mf.configDir, Mesh: mf.mesh(), Debounce: fileDebounce, Log: log, Registerer: reg})
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	if kf.enabled() {
		cfg, err := kf.restConfig()
		if err != nil {
			return nil, fmt.Errorf("kubernetes: %w", err)
		}
		src, err := kube.New(kube.Options{
			Config: cfg, Mesh: mf.mesh(), Log: log, Registerer: reg,
			StatusWriter: kf.statusWriter && kf.leaseNamespace != "", LeaseNamespace: kf.leaseNamespace,
			LeaseName: kf.leaseName, Identity: kf.identity, SecretNamespaces: kf.secretNamespaces,
		})
		if err != nil {
			return nil, err
		}
		if kf.statusWriter && kf.leaseNamespace == "" {
			log.Warn("status write-back disabled: no --lease-namespace (or $POD_NAMESPACE)")
		}
		out = append(out, src)
	}
	if len(out) == 0 {
		return nil, errors.New("no policy source: give --config DIR and/or --kubeconfig FILE / --in-cluster")
	}
	return out, nil
}

// merger combines the latest store of every source: it publishes only once each source has
// published at least once (so /readyz means every source has loaded), and then on every
// change. Files win over Kubernetes for an object defined in both (reported).
type merger struct {
	mu      sync.Mutex
	mesh    model.Mesh
	stores  []*model.Store
	publish func(*model.Store)
	log     *slog.Logger
}

func newMerger(mesh model.Mesh, n int, log *slog.Logger, publish func(*model.Store)) *merger {
	return &merger{mesh: mesh, stores: make([]*model.Store, n), publish: publish, log: log}
}

// publisher returns the publish function of source i.
func (m *merger) publisher(i int) func(*model.Store, []model.Problem) {
	return func(s *model.Store, _ []model.Problem) { // each source logs its own problems
		m.mu.Lock()
		defer m.mu.Unlock()
		m.stores[i] = s
		for _, st := range m.stores {
			if st == nil {
				return
			}
		}
		if len(m.stores) == 1 {
			m.publish(s)
			return
		}
		for _, p := range model.MergeConflicts(m.stores...) {
			m.log.Warn("object defined by two sources", "origin", p.Origin.String(), "kind", string(p.Kind),
				"namespace", p.Namespace, "name", p.Name, "err", p.Reason)
		}
		m.publish(model.MergeStores(m.mesh, m.stores...))
	}
}

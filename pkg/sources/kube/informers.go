package kube

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sync"

	istioclient "istio.io/client-go/pkg/clientset/versioned"
	istioinformers "istio.io/client-go/pkg/informers/externalversions"
	networkinglisters "istio.io/client-go/pkg/listers/networking/v1"
	securitylisters "istio.io/client-go/pkg/listers/security/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// informers holds the shared informer factories and the listers the builder reads.
type informers struct {
	istio   istioinformers.SharedInformerFactory
	kube    kubeinformers.SharedInformerFactory
	secrets []kubeinformers.SharedInformerFactory // one per watched namespace, or one for all

	requestAuthns securitylisters.RequestAuthenticationLister
	authzPolicies securitylisters.AuthorizationPolicyLister
	peerAuthns    securitylisters.PeerAuthenticationLister
	gateways      networkinglisters.GatewayLister
	virtualSvcs   networkinglisters.VirtualServiceLister
	destRules     networkinglisters.DestinationRuleLister
	serviceEnts   networkinglisters.ServiceEntryLister
	workloadEnts  networkinglisters.WorkloadEntryLister
	services      corelisters.ServiceLister
	pods          corelisters.PodLister
	slices        discoverylisters.EndpointSliceLister
	secretListers []corelisters.SecretLister

	// refs watches the referenced Secrets of other types (secretwatch.go), in
	// secretNamespaces only when that is set.
	refs             *secretWatches
	secretNamespaces []string

	handlers []handlerTarget
	synced   []cache.InformerSynced
}

// handlerTarget is one informer and the kind label its events are counted under.
type handlerTarget struct {
	kind     string
	informer cache.SharedIndexInformer
	istio    bool // status-only updates of Istio objects are ignored
}

func newInformers(kc kubernetes.Interface, ic istioclient.Interface, secretNamespaces []string, log *slog.Logger) *informers {
	in := &informers{
		istio:            istioinformers.NewSharedInformerFactory(ic, 0),
		kube:             kubeinformers.NewSharedInformerFactory(kc, 0),
		refs:             newSecretWatches(kc, log),
		secretNamespaces: secretNamespaces,
	}
	sec, net := in.istio.Security().V1(), in.istio.Networking().V1()
	in.requestAuthns = sec.RequestAuthentications().Lister()
	in.authzPolicies = sec.AuthorizationPolicies().Lister()
	in.peerAuthns = sec.PeerAuthentications().Lister()
	in.gateways = net.Gateways().Lister()
	in.virtualSvcs = net.VirtualServices().Lister()
	in.destRules = net.DestinationRules().Lister()
	in.serviceEnts = net.ServiceEntries().Lister()
	in.workloadEnts = net.WorkloadEntries().Lister()
	for kind, i := range map[model.Kind]cache.SharedIndexInformer{
		model.KindRequestAuthentication: sec.RequestAuthentications().Informer(),
		model.KindAuthorizationPolicy:   sec.AuthorizationPolicies().Informer(),
		model.KindPeerAuthentication:    sec.PeerAuthentications().Informer(),
		model.KindGateway:               net.Gateways().Informer(),
		model.KindVirtualService:        net.VirtualServices().Informer(),
		model.KindDestinationRule:       net.DestinationRules().Informer(),
		model.KindServiceEntry:          net.ServiceEntries().Informer(),
		model.KindWorkloadEntry:         net.WorkloadEntries().Informer(),
	} {
		in.handlers = append(in.handlers, handlerTarget{kind: string(kind), informer: i, istio: true})
	}
	core, disc := in.kube.Core().V1(), in.kube.Discovery().V1()
	in.services, in.pods, in.slices = core.Services().Lister(), core.Pods().Lister(), disc.EndpointSlices().Lister()
	in.handlers = append(in.handlers,
		handlerTarget{kind: "Service", informer: core.Services().Informer()},
		handlerTarget{kind: "Pod", informer: core.Pods().Informer()},
		handlerTarget{kind: "EndpointSlice", informer: disc.EndpointSlices().Informer()})

	// Only TLS Secrets are listed: the field selector makes the API server filter, so other
	// Secrets (service-account tokens, application credentials) never reach this process,
	// except those a credentialName references, each watched alone by refs.
	tlsOnly := kubeinformers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("type", string(corev1.SecretTypeTLS)).String()
	})
	namespaces := secretNamespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	for _, ns := range namespaces {
		f := kubeinformers.NewSharedInformerFactoryWithOptions(kc, 0, tlsOnly, kubeinformers.WithNamespace(ns))
		in.secrets = append(in.secrets, f)
		in.secretListers = append(in.secretListers, f.Core().V1().Secrets().Lister())
		in.handlers = append(in.handlers, handlerTarget{kind: string(model.KindSecret), informer: f.Core().V1().Secrets().Informer()})
	}
	for _, h := range in.handlers {
		in.synced = append(in.synced, h.informer.HasSynced)
	}
	return in
}

// addHandlers makes every informer event mark the state dirty (a non-blocking send on a
// channel of capacity one, so a burst coalesces into one signal).
func (in *informers) addHandlers(dirty chan<- struct{}, m *metrics) error {
	markKind := func(kind string) func() {
		return func() {
			m.events.WithLabelValues(kind).Inc()
			select {
			case dirty <- struct{}{}:
			default:
			}
		}
	}
	in.refs.onEvent = markKind(string(model.KindSecret))
	in.refs.gauge = m.secretWatch
	for _, h := range in.handlers {
		mark := markKind(h.kind)
		istio := h.istio
		_, err := h.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(any) { mark() },
			UpdateFunc: func(oldObj, newObj any) {
				if istio && statusOnly(oldObj, newObj) {
					return // our own status writes must not cause a rebuild
				}
				mark()
			},
			DeleteFunc: func(any) { mark() },
		})
		if err != nil {
			return fmt.Errorf("kube source: add %s event handler: %w", h.kind, err)
		}
	}
	return nil
}

// statusOnly reports whether an update changed nothing the store holds: same generation
// (the spec is unchanged), labels and annotations.
func statusOnly(oldObj, newObj any) bool {
	o, ok1 := oldObj.(metav1.Object)
	n, ok2 := newObj.(metav1.Object)
	if !ok1 || !ok2 {
		return false
	}
	return o.GetGeneration() == n.GetGeneration() && o.GetGeneration() != 0 &&
		reflect.DeepEqual(o.GetLabels(), n.GetLabels()) && reflect.DeepEqual(o.GetAnnotations(), n.GetAnnotations())
}

// start runs every factory's informers; they stop when ctx is done and wg waits for them.
func (in *informers) start(ctx context.Context, wg *sync.WaitGroup) {
	factories := []factory{in.istio, in.kube}
	for _, f := range in.secrets {
		factories = append(factories, f)
	}
	for _, f := range factories {
		f.Start(ctx.Done())
	}
	in.refs.start(ctx, wg)
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ctx.Done()
		for _, f := range factories {
			f.Shutdown() // waits for the informer goroutines
		}
	}()
}

// factory is what start needs of the istio and kube informer factories.
type factory interface {
	Start(stop <-chan struct{})
	Shutdown()
}

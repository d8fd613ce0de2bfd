package kube

import (
	"context"
	"time"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// statusKind writes the owned status fields of one Istio kind.
type statusKind interface {
	// sync makes the status of namespace/name say problems; wrote is false when it already did
	// or the object is gone.
	sync(ctx context.Context, namespace, name string, problems []model.Problem, now time.Time) (wrote bool, err error)
}

// typedStatus implements statusKind for one client-go type: read from the informer cache,
// compare, and UpdateStatus a copy when different.
type typedStatus[O any, PO interface {
	*O
	metav1.Object
	DeepCopy() *O
}] struct {
	get    func(namespace, name string) (PO, error)
	update func(ctx context.Context, o PO) error
	view   func(o PO) statusView
}

func (k typedStatus[O, PO]) sync(ctx context.Context, namespace, name string, problems []model.Problem, now time.Time) (bool, error) {
	o, err := k.get(namespace, name)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	conds, msgs, changed := desiredStatus(k.view(o), problems, o.GetGeneration(), now)
	if !changed {
		return false, nil
	}
	cp := PO(o.DeepCopy()) // objects from the cache are shared and must not be modified
	v := k.view(cp)
	*v.conditions, *v.messages = conds, msgs
	return true, k.update(ctx, cp)
}

// statusKinds wires every Istio kind to its lister and UpdateStatus call.
func statusKinds(ic istioclient.Interface, in *informers) map[model.Kind]statusKind {
	sec, net := ic.SecurityV1(), ic.NetworkingV1()
	upd := metav1.UpdateOptions{FieldManager: fieldManager}
	return map[model.Kind]statusKind{
		model.KindRequestAuthentication: typedStatus[securityv1.RequestAuthentication, *securityv1.RequestAuthentication]{
			get: func(ns, n string) (*securityv1.RequestAuthentication, error) {
				return in.requestAuthns.RequestAuthentications(ns).Get(n)
			},
			update: func(ctx context.Context, o *securityv1.RequestAuthentication) error {
				_, err := sec.RequestAuthentications(o.Namespace).UpdateStatus(ctx, o, upd)
				return err
			},
			view: func(o *securityv1.RequestAuthentication) statusView {
				return statusView{&o.Status.Conditions, &o.Status.ValidationMessages}
			},
		},
		model.KindAuthorizationPolicy: typedStatus[securityv1.AuthorizationPolicy, *securityv1.AuthorizationPolicy]{
			get: func(ns, n string) (*securityv1.AuthorizationPolicy, error) {
				return in.authzPolicies.AuthorizationPolicies(ns).Get(n)
			},
			update: func(ctx context.Context, o *securityv1.AuthorizationPolicy) error {
				_, err := sec.AuthorizationPolicies(o.Namespace).UpdateStatus(ctx, o, upd)
				return err
			},
			view: func(o *securityv1.AuthorizationPolicy) statusView {
				return statusView{&o.Status.Conditions, &o.Status.ValidationMessages}
			},
		},
		model.KindPeerAuthentication: typedStatus[securityv1.PeerAuthentication, *securityv1.PeerAuthentication]{
			get: func(ns, n string) (*securityv1.PeerAuthentication, error) {
				return in.peerAuthns.PeerAuthentications(ns).Get(n)
			},
			update: func(ctx context.Context, o *securityv1.PeerAuthentication) error {
				_, err := sec.PeerAuthentications(o.Namespace).UpdateStatus(ctx, o, upd)
				return err
			},
			view: func(o *securityv1.PeerAuthentication) statusView {
				return statusView{&o.Status.Conditions, &o.Status.ValidationMessages}
			},
		},
		model.KindGateway: typedStatus[networkingv1.Gateway, *networkingv1.Gateway]{
			get: func(ns, n string) (*networkingv1.Gateway, error) { return in.gateways.Gateways(ns).Get(n) },
			update: func(ctx context.Context, o *networkingv1.Gateway) error {
				_, err := net.Gateways(o.Namespace).UpdateStatus(ctx, o, upd)
				return err
			},
			view: func(o *networkingv1.Gateway) statusView {
				return statusView{&o.Status.Conditions, &o.Status.ValidationMessages}
			},
		},
		model.KindVirtualService: typedStatus[networkingv1.VirtualService, *networkingv1.VirtualService]{
			get: func(ns, n string) (*networkingv1.VirtualService, error) {
				return in.virtualSvcs.VirtualServices(ns).Get(n)
			},
			update: func(ctx context.Context, o *networkingv1.VirtualService) error {
				_, err := net.VirtualServices(o.Namespace).UpdateStatus(ctx, o, upd)
				return err
			},
			view: func(o *networkingv1.VirtualService) statusView {
				return statusView{&o.Status.Conditions, &o.Status.ValidationMessages}
			},
		},
		model.KindDestinationRule: typedStatus[networkingv1.DestinationRule, *networkingv1.DestinationRule]{
			get: func(ns, n string) (*networkingv1.DestinationRule, error) {
				return in.destRules.DestinationRules(ns).Get(n)
			},
			update: func(ctx context.Context, o *networkingv1.DestinationRule) error {
				_, err := net.DestinationRules(o.Namespace).UpdateStatus(ctx, o, upd)
				return err
			},
			view: func(o *networkingv1.DestinationRule) statusView {
				return statusView{&o.Status.Conditions, &o.Status.ValidationMessages}
			},
		},
		// ServiceEntry has its own status type (ServiceEntryStatus) with the same two fields.
		model.KindServiceEntry: typedStatus[networkingv1.ServiceEntry, *networkingv1.ServiceEntry]{
			get: func(ns, n string) (*networkingv1.ServiceEntry, error) {
				return in.serviceEnts.ServiceEntries(ns).Get(n)
			},
			update: func(ctx context.Context, o *networkingv1.ServiceEntry) error {
				_, err := net.ServiceEntries(o.Namespace).UpdateStatus(ctx, o, upd)
				return err
			},
			view: func(o *networkingv1.ServiceEntry) statusView {
				return statusView{&o.Status.Conditions, &o.Status.ValidationMessages}
			},
		},
		model.KindWorkloadEntry: typedStatus[networkingv1.WorkloadEntry, *networkingv1.WorkloadEntry]{
			get: func(ns, n string) (*networkingv1.WorkloadEntry, error) {
				return in.workloadEnts.WorkloadEntries(ns).Get(n)
			},
			update: func(ctx context.Context, o *networkingv1.WorkloadEntry) error {
				_, err := net.WorkloadEntries(o.Namespace).UpdateStatus(ctx, o, upd)
				return err
			},
			view: func(o *networkingv1.WorkloadEntry) statusView {
				return statusView{&o.Status.Conditions, &o.Status.ValidationMessages}
			},
		},
	}
}

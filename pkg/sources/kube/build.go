package kube

import (
	"log/slog"
	"maps"

	"google.golang.org/protobuf/proto"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1beta1 "istio.io/api/security/v1beta1"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// API versions recorded in Meta.APIVersion: the versions the informers read.
const (
	securityAPIVersion   = "security.istio.io/v1"
	networkingAPIVersion = "networking.istio.io/v1"
)

// lastApplied is kubectl's copy of the whole object; it is dropped from Meta.Annotations
// because nothing reads it and it doubles the memory an object takes.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// objectKey names one Istio object.
type objectKey struct {
	kind            model.Kind
	namespace, name string
}

// converted is an Istio object converted and validated at one resourceVersion. Conversions
// are kept between builds so an unchanged object is neither cloned nor validated again.
type converted struct {
	rv       string
	obj      model.Object
	problems []model.Problem
}

// builder turns the informer caches into stores.
type builder struct {
	mesh  model.Mesh
	in    *informers
	log   *slog.Logger
	cache map[objectKey]converted
}

func newBuilder(mesh model.Mesh, in *informers, log *slog.Logger) *builder {
	return &builder{mesh: mesh, in: in, log: log, cache: map[objectKey]converted{}}
}

// pass accumulates one build.
type pass struct {
	next     map[objectKey]converted
	objs     []model.Object
	problems []model.Problem
	byObject map[objectKey][]model.Problem // every Istio object, with nil when it has none
}

// build returns a store of everything in the caches, the validation problems of the Istio
// objects (sorted), and those problems by object for the status writer.
func (b *builder) build() (*model.Store, []model.Problem, map[objectKey][]model.Problem) {
	p := &pass{next: map[objectKey]converted{}, byObject: map[objectKey][]model.Problem{}}
	all := labels.Everything()
	// Lister errors cannot happen for cache-backed listers; an empty list is the safe reading.
	ras, _ := b.in.requestAuthns.List(all)
	addIstio(b, p, model.KindRequestAuthentication, securityAPIVersion, ras,
		func(o *securityv1.RequestAuthentication) *securityv1beta1.RequestAuthentication { return &o.Spec })
	aps, _ := b.in.authzPolicies.List(all)
	addIstio(b, p, model.KindAuthorizationPolicy, securityAPIVersion, aps,
		func(o *securityv1.AuthorizationPolicy) *securityv1beta1.AuthorizationPolicy { return &o.Spec })
	pas, _ := b.in.peerAuthns.List(all)
	addIstio(b, p, model.KindPeerAuthentication, securityAPIVersion, pas,
		func(o *securityv1.PeerAuthentication) *securityv1beta1.PeerAuthentication { return &o.Spec })
	gws, _ := b.in.gateways.List(all)
	addIstio(b, p, model.KindGateway, networkingAPIVersion, gws,
		func(o *networkingv1.Gateway) *networkingv1alpha3.Gateway { return &o.Spec })
	vss, _ := b.in.virtualSvcs.List(all)
	addIstio(b, p, model.KindVirtualService, networkingAPIVersion, vss,
		func(o *networkingv1.VirtualService) *networkingv1alpha3.VirtualService { return &o.Spec })
	drs, _ := b.in.destRules.List(all)
	addIstio(b, p, model.KindDestinationRule, networkingAPIVersion, drs,
		func(o *networkingv1.DestinationRule) *networkingv1alpha3.DestinationRule { return &o.Spec })
	ses, _ := b.in.serviceEnts.List(all)
	addIstio(b, p, model.KindServiceEntry, networkingAPIVersion, ses,
		func(o *networkingv1.ServiceEntry) *networkingv1alpha3.ServiceEntry { return &o.Spec })
	wes, _ := b.in.workloadEnts.List(all)
	addIstio(b, p, model.KindWorkloadEntry, networkingAPIVersion, wes,
		func(o *networkingv1.WorkloadEntry) *networkingv1alpha3.WorkloadEntry { return &o.Spec })
	b.cache = p.next

	svcs, _ := b.in.services.List(all)
	pods, _ := b.in.pods.List(all)
	slices, _ := b.in.slices.List(all)
	// Watch exactly the non-TLS Secrets the Gateways and DestinationRules reference now.
	b.in.refs.update(withoutTLSSecrets(referencedSecrets(gws, drs, pods, b.in.secretNamespaces), b.in.secretListers))
	for _, se := range serviceEntries(svcs) {
		p.objs = append(p.objs, se)
	}
	for _, we := range workloadEntries(pods, slices, svcs) {
		p.objs = append(p.objs, we)
	}
	for _, l := range b.in.secretListers {
		secrets, _ := l.List(all)
		for _, s := range secrets {
			p.objs = append(p.objs, secretObject(s))
		}
	}
	// No duplicates: the reference watches exclude kubernetes.io/tls, and a type never changes.
	for _, s := range b.in.refs.secrets() {
		p.objs = append(p.objs, secretObject(s))
	}
	return model.NewStore(b.mesh, p.objs), model.SortProblems(p.problems), p.byObject
}

// addIstio converts and validates the objects of one Istio kind, reusing the conversion of
// objects whose resourceVersion did not change. New problems are logged once, here.
func addIstio[O metav1.Object, T proto.Message](b *builder, p *pass, kind model.Kind, apiVersion string, list []O, spec func(O) T) {
	for _, o := range list {
		key := objectKey{kind, o.GetNamespace(), o.GetName()}
		c, ok := b.cache[key]
		if !ok || c.rv != o.GetResourceVersion() {
			obj := &model.Config[T]{Meta: metaOf(kind, apiVersion, o), Spec: proto.Clone(spec(o)).(T)}
			c = converted{rv: o.GetResourceVersion(), obj: obj, problems: model.Validate(obj, b.mesh)}
			for _, pr := range c.problems {
				b.log.Warn("bad config", "origin", pr.Origin.String(), "kind", pr.Kind, "namespace", pr.Namespace,
					"name", pr.Name, "field", pr.Field, "severity", pr.Severity.String(), "err", pr.Reason)
			}
		}
		p.next[key] = c
		p.objs = append(p.objs, c.obj)
		p.problems = append(p.problems, c.problems...)
		p.byObject[key] = c.problems
	}
}

// secretObject converts a Secret of either informer into the model's.
func secretObject(s *corev1.Secret) *model.Secret {
	return &model.Secret{Meta: metaOf(model.KindSecret, "v1", s), Type: string(s.Type), Data: maps.Clone(s.Data)}
}

// metaOf copies the metadata the model keeps. Origin is "ns/name@resourceVersion".
func metaOf(kind model.Kind, apiVersion string, o metav1.Object) model.Meta {
	ann := maps.Clone(o.GetAnnotations())
	delete(ann, lastApplied)
	return model.Meta{
		Kind: kind, APIVersion: apiVersion, Namespace: o.GetNamespace(), Name: o.GetName(),
		Labels: maps.Clone(o.GetLabels()), Annotations: ann,
		CreationTimestamp: o.GetCreationTimestamp().Time,
		Origin:            model.Origin{Resource: o.GetNamespace() + "/" + o.GetName() + "@" + o.GetResourceVersion()},
	}
}

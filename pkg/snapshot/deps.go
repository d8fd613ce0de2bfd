package snapshot

import (
	"bytes"
	"maps"
	"reflect"

	"google.golang.org/protobuf/proto"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// The dependency rule: which groups a store change can affect.
//
//   - RequestAuthentication and AuthorizationPolicy select proxies of their own namespace only
//     (model.PoliciesFor), except in the root namespace, where they apply mesh-wide. A change
//     in namespace N affects the groups whose proxy namespace is N, or every group when N is
//     the root namespace.
//   - PeerAuthentication affects every group: besides the inbound chains of its own
//     namespace's proxies, auto mTLS makes every client decide per destination endpoint whether
//     to originate mTLS from the destination's PeerAuthentication (SEMANTICS.md §6.4), so a
//     DISABLE in one namespace changes the clusters of sidecars in all others.
//   - Networking kinds (Gateway, VirtualService, DestinationRule, ServiceEntry, WorkloadEntry)
//     and Secrets affect every group: services are global, a Gateway selects gateways in any
//     namespace, and a credential may be used by any of them. A group whose rebuilt content
//     hashes to its current version causes no push, so over-approximating costs only the
//     translation.
//   - A change of the mesh settings affects every group.
//
// changes is the result of comparing two stores.
type changes struct {
	all        bool            // every group is affected
	namespaces map[string]bool // security changes in these namespaces
}

// affects reports whether a group of proxies in namespace ns may see a different config.
func (c changes) affects(ns, rootNamespace string) bool {
	return c.all || c.namespaces[ns] || c.namespaces[rootNamespace]
}

// diff compares two stores cheaply: specs with proto.Equal, plus labels and annotations
// (selection and some behaviour hang on them). A nil old store changes everything.
func diff(old, cur *model.Store) changes {
	if old == nil || cur == nil || !meshEqual(old.Mesh, cur.Mesh) {
		return changes{all: true}
	}
	c := changes{namespaces: map[string]bool{}}
	security := func(ns string) { c.namespaces[ns] = true }
	global := func(string) { c.all = true }
	diffKind(old.RequestAuthentications, cur.RequestAuthentications, security)
	diffKind(old.AuthorizationPolicies, cur.AuthorizationPolicies, security)
	diffKind(old.PeerAuthentications, cur.PeerAuthentications, global)
	diffKind(old.Gateways, cur.Gateways, global)
	diffKind(old.VirtualServices, cur.VirtualServices, global)
	diffKind(old.DestinationRules, cur.DestinationRules, global)
	diffKind(old.ServiceEntries, cur.ServiceEntries, global)
	diffKind(old.WorkloadEntries, cur.WorkloadEntries, global)
	if !secretsEqual(old.Secrets, cur.Secrets) {
		c.all = true
	}
	return c
}

func meshEqual(a, b model.Mesh) bool {
	return reflect.DeepEqual(a, b)
}

// diffKind calls changed(namespace) for every object added, removed or modified.
func diffKind[T proto.Message](old, cur []*model.Config[T], changed func(ns string)) {
	prev := make(map[string]*model.Config[T], len(old))
	for _, o := range old {
		prev[o.Key()] = o
	}
	for _, o := range cur {
		p, ok := prev[o.Key()]
		delete(prev, o.Key())
		if !ok || !metaEqual(p.Meta, o.Meta) || !proto.Equal(p.Spec, o.Spec) {
			changed(o.Namespace)
		}
	}
	for _, o := range prev {
		changed(o.Namespace)
	}
}

func metaEqual(a, b model.Meta) bool {
	return maps.Equal(a.Labels, b.Labels) && maps.Equal(a.Annotations, b.Annotations) &&
		a.CreationTimestamp.Equal(b.CreationTimestamp) && a.Order == b.Order
}

func secretsEqual(a, b []*model.Secret) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key() != b[i].Key() || a[i].Type != b[i].Type || !metaEqual(a[i].Meta, b[i].Meta) ||
			!maps.EqualFunc(a[i].Data, b[i].Data, bytes.Equal) {
			return false
		}
	}
	return true
}

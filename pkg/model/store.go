package model

import (
	"cmp"
	"slices"
	"sync"
)

// Defaults for the mesh-wide settings (MeshConfig's rootNamespace and trustDomain).
const (
	DefaultRootNamespace = "istio-system"
	DefaultTrustDomain   = "cluster.local"
)

// Mesh holds the mesh-wide settings that Istio keeps in MeshConfig.
type Mesh struct {
	RootNamespace      string   `json:"rootNamespace,omitempty"`
	TrustDomain        string   `json:"trustDomain,omitempty"`
	TrustDomainAliases []string `json:"trustDomainAliases,omitempty"`
	// MeshMTLS tunes ISTIO_MUTUAL (mesh mTLS) and TLSDefaults every other TLS the proxies
	// terminate or originate; see TLSConfig and ValidateMesh.
	MeshMTLS    TLSConfig `json:"meshMTLS,omitzero"`
	TLSDefaults TLSConfig `json:"tlsDefaults,omitzero"`
}

// WithDefaults fills empty fields with Istio's defaults.
func (m Mesh) WithDefaults() Mesh {
	if m.RootNamespace == "" {
		m.RootNamespace = DefaultRootNamespace
	}
	if m.TrustDomain == "" {
		m.TrustDomain = DefaultTrustDomain
	}
	return m
}

// Store is an immutable view of every object a source has loaded. A source builds a new Store
// for every change and never mutates one it has handed out, so readers need no locks.
// Every slice is sorted by (namespace, name).
type Store struct {
	Mesh Mesh

	RequestAuthentications []*RequestAuthentication
	AuthorizationPolicies  []*AuthorizationPolicy
	PeerAuthentications    []*PeerAuthentication
	Gateways               []*Gateway
	VirtualServices        []*VirtualService
	DestinationRules       []*DestinationRule
	ServiceEntries         []*ServiceEntry
	WorkloadEntries        []*WorkloadEntry
	Secrets                []*Secret

	// derived holds values computed from this store alone (Derived).
	derived sync.Map
}

// Derived returns the value build computes from this store, computing it once per store and
// key: every proxy group's translation of one store needs the same indexes (the service
// registry, say), the store never changes, and groups are translated concurrently. build must
// depend on the store only. A value shared this way is read by every group: it must not be
// changed afterwards, except a cache built for concurrent use.
func (s *Store) Derived(key any, build func() any) any {
	e, ok := s.derived.Load(key)
	if !ok {
		e, _ = s.derived.LoadOrStore(key, &derivedEntry{})
	}
	d := e.(*derivedEntry)
	d.once.Do(func() { d.v = build() })
	return d.v
}

// derivedEntry is one Derived value, built by the first caller while the others wait.
type derivedEntry struct {
	once sync.Once
	v    any
}

// NewStore groups objects by kind and sorts each group by (namespace, name). Objects of a kind
// the model does not know are ignored: sources report those.
func NewStore(mesh Mesh, objs []Object) *Store {
	s := &Store{Mesh: mesh.WithDefaults()}
	for _, o := range objs {
		switch v := o.(type) {
		case *RequestAuthentication:
			s.RequestAuthentications = append(s.RequestAuthentications, v)
		case *AuthorizationPolicy:
			s.AuthorizationPolicies = append(s.AuthorizationPolicies, v)
		case *PeerAuthentication:
			s.PeerAuthentications = append(s.PeerAuthentications, v)
		case *Gateway:
			s.Gateways = append(s.Gateways, v)
		case *VirtualService:
			s.VirtualServices = append(s.VirtualServices, v)
		case *DestinationRule:
			s.DestinationRules = append(s.DestinationRules, v)
		case *ServiceEntry:
			s.ServiceEntries = append(s.ServiceEntries, v)
		case *WorkloadEntry:
			s.WorkloadEntries = append(s.WorkloadEntries, v)
		case *Secret:
			s.Secrets = append(s.Secrets, v)
		}
	}
	sortObjects(s.RequestAuthentications)
	sortObjects(s.AuthorizationPolicies)
	sortObjects(s.PeerAuthentications)
	sortObjects(s.Gateways)
	sortObjects(s.VirtualServices)
	sortObjects(s.DestinationRules)
	sortObjects(s.ServiceEntries)
	sortObjects(s.WorkloadEntries)
	sortObjects(s.Secrets)
	return s
}

// Objects returns every object in the store, kinds in a fixed order.
func (s *Store) Objects() []Object {
	var out []Object
	out = appendObjects(out, s.RequestAuthentications)
	out = appendObjects(out, s.AuthorizationPolicies)
	out = appendObjects(out, s.PeerAuthentications)
	out = appendObjects(out, s.Gateways)
	out = appendObjects(out, s.VirtualServices)
	out = appendObjects(out, s.DestinationRules)
	out = appendObjects(out, s.ServiceEntries)
	out = appendObjects(out, s.WorkloadEntries)
	out = appendObjects(out, s.Secrets)
	return out
}

// Secret returns the Secret namespace/name, or nil.
func (s *Store) Secret(namespace, name string) *Secret {
	i, ok := slices.BinarySearchFunc(s.Secrets, [2]string{namespace, name}, func(x *Secret, key [2]string) int {
		return cmp.Or(cmp.Compare(x.Namespace, key[0]), cmp.Compare(x.Name, key[1]))
	})
	if !ok {
		return nil
	}
	return s.Secrets[i]
}

func sortObjects[T Object](objs []T) {
	slices.SortStableFunc(objs, func(a, b T) int {
		ma, mb := a.ObjectMeta(), b.ObjectMeta()
		return cmp.Or(cmp.Compare(ma.Namespace, mb.Namespace), cmp.Compare(ma.Name, mb.Name))
	})
}

func appendObjects[T Object](out []Object, objs []T) []Object {
	for _, o := range objs {
		out = append(out, o)
	}
	return out
}

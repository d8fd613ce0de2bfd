package model

import (
	"sync"
	"sync/atomic"
	"testing"

	securityv1beta1 "istio.io/api/security/v1beta1"
)

func TestMergeStores(t *testing.T) {
	ap := func(ns, name string, origin Origin) *AuthorizationPolicy {
		return &AuthorizationPolicy{Meta: Meta{Kind: KindAuthorizationPolicy, Namespace: ns, Name: name, Origin: origin},
			Spec: &securityv1beta1.AuthorizationPolicy{}}
	}
	files := NewStore(Mesh{}, []Object{ap("foo", "a", Origin{File: "a.yaml", Line: 1}), ap("foo", "b", Origin{File: "a.yaml", Line: 5})})
	kube := NewStore(Mesh{}, []Object{ap("foo", "b", Origin{Resource: "foo/b@7"}), ap("bar", "c", Origin{Resource: "bar/c@8"})})

	got := MergeStores(Mesh{RootNamespace: "root"}, files, nil, kube)
	if got.Mesh.RootNamespace != "root" || got.Mesh.TrustDomain != DefaultTrustDomain {
		t.Errorf("mesh = %+v, want root namespace root with defaults", got.Mesh)
	}
	var keys []string
	for _, p := range got.AuthorizationPolicies {
		keys = append(keys, p.Key()+" "+p.Origin.String())
	}
	want := []string{"bar/c bar/c@8", "foo/a a.yaml:1", "foo/b a.yaml:5"}
	if len(keys) != len(want) {
		t.Fatalf("merged %v, want %v", keys, want)
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Errorf("merged[%d] = %q, want %q", i, keys[i], want[i])
		}
	}
	ps := MergeConflicts(files, kube)
	if len(ps) != 1 || ps[0].String() != "foo/b@7: AuthorizationPolicy foo/b: metadata.name: warning: AuthorizationPolicy foo/b is also defined at a.yaml:5, which is used; this one is ignored" {
		t.Errorf("conflicts = %v", ps)
	}
}

// TestStoreDerived: a derived value is built once per store and key; another store or key
// builds its own.
func TestStoreDerived(t *testing.T) {
	type key struct{ n int }
	a, b := NewStore(Mesh{}, nil), NewStore(Mesh{}, nil)
	builds := 0
	build := func() any { builds++; return builds }
	first := a.Derived(key{1}, build)
	again := a.Derived(key{1}, build)
	if first != 1 || again != 1 {
		t.Fatalf("the same store and key gave %v then %v, want one build", first, again)
	}
	if b.Derived(key{1}, build) != 2 || a.Derived(key{2}, build) != 3 {
		t.Fatal("another store or key reused a value")
	}
	// Concurrent first calls: one build, every caller gets its value.
	c := NewStore(Mesh{}, nil)
	var concurrent atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if v := c.Derived(key{1}, func() any { return concurrent.Add(1) }); v != int32(1) {
				t.Errorf("got %v, want the one build's value", v)
			}
		})
	}
	wg.Wait()
	if n := concurrent.Load(); n != 1 {
		t.Fatalf("%d concurrent first calls ran build %d times, want once", 8, n)
	}
}

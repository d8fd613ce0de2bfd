package translate

import (
	"bytes"
	"fmt"
	"testing"

	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
)

// TestMustAnyDeterministic: a message with a map packs to the same bytes every time, which the
// content-hash versions depend on.
func TestMustAnyDeterministic(t *testing.T) {
	policies := map[string]*rbacv3.Policy{}
	for i := range 50 {
		policies[fmt.Sprintf("ns[foo]-policy[p%d]-rule[0]", i)] = &rbacv3.Policy{
			Permissions: []*rbacv3.Permission{{Rule: &rbacv3.Permission_Any{Any: true}}},
			Principals:  []*rbacv3.Principal{{Identifier: &rbacv3.Principal_Any{Any: true}}},
		}
	}
	m := &rbacv3.RBAC{Policies: policies}
	first := mustAny(m).GetValue()
	for range 20 {
		if !bytes.Equal(first, mustAny(m).GetValue()) {
			t.Fatal("packing the same RBAC config twice gave different bytes")
		}
	}
}

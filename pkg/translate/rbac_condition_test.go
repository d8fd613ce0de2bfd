package translate

import (
	"testing"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// TestConditionKeysAgreeWithValidation: translation accepts exactly the when keys validation
// accepts, so an object that passed validation never fails translation on its key.
func TestConditionKeysAgreeWithValidation(t *testing.T) {
	t.Parallel()
	ctx := newAuthzContext(model.Mesh{}, "foo")
	for _, key := range []string{
		"source.ip", "remote.ip", "source.namespace", "source.principal", "source.serviceAccount", "source.trustDomain",
		"request.auth.principal", "request.auth.audiences", "request.auth.presenter", "destination.ip",
		"destination.port", "connection.sni", "request.headers[x]", "request.auth.claims[a][b]",
		"experimental.envoy.filters.a.b[c]", "", "request.headers", "request.headers[]", "request.auth.claims[]",
		"request.auth.claims[a]b", "experimental.envoy.filters.[c]", "destination.labels[a]", "destination.namespace",
		"destination.name", "destination.user", "request.experimental.inline.headers[x]", "bogus",
	} {
		_, terr := ctx.conditionAttr(key)
		verr := model.AuthzConditionKeyError(key)
		if (terr == nil) != (verr == nil) {
			t.Errorf("key %q: translation error %v, validation error %v", key, terr, verr)
		}
	}
}

package envoy

import (
	"testing"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// TestFixturesTranslate runs without Envoy: the policy the Envoy suite serves must decode
// without problems and give the gateway node of its bootstrap a listener on the gateway port
// with the jwt_authn and RBAC filters, so the suite cannot rot while no Envoy is at hand.
func TestFixturesTranslate(t *testing.T) {
	objs, problems := file.Decode("policy.yaml", []byte(gatewayPolicy(8080, 9999, "https://127.0.0.1:1/jwks.json")))
	if len(problems) > 0 {
		t.Fatalf("fixture problems: %v", problems)
	}
	proxy, err := model.ProxyFromNode("gw-e2e", "gw", map[string]any{
		"role": "gateway", "namespace": "istio-system", "labels": map[string]any{"istio": "ingressgateway"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, _ := translate.Proxy(translate.Inputs{Store: model.NewStore(model.Mesh{}, objs), Proxy: proxy})
	if len(res.Listeners) != 1 || res.Listeners[0].GetName() != "0.0.0.0_8080" {
		t.Fatalf("listeners %v, want 0.0.0.0_8080", res.Listeners)
	}
	if len(res.KeySources) != 1 {
		t.Fatalf("key sources %v, want the IdP's jwks", res.KeySources)
	}
}

package translate_test

import (
	"fmt"
	"testing"

	securityv1beta1 "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// BenchmarkTranslateGatewayJWT: a gateway with 500 routes and 500 issuers, each with its own
// fetched key set (the goal: under 25 ms and 20 MiB per group build).
func BenchmarkTranslateGatewayJWT(b *testing.B) {
	const issuers = 500
	in := gatewayBenchInputs(500, 50)
	objs := in.Store.Objects()
	in.Keys = map[string]model.KeySet{}
	keySet := `{"keys":[{"kty":"RSA","kid":"k","alg":"RS256","use":"sig","e":"AQAB","n":"` + benchModulus + `"}]}`
	for i := range issuers {
		uri := fmt.Sprintf("https://idp-%d.example.com/jwks.json", i)
		objs = append(objs, &model.RequestAuthentication{
			Meta: model.Meta{Kind: model.KindRequestAuthentication, Namespace: "istio-system", Name: fmt.Sprintf("ra-%d", i)},
			Spec: &securityv1beta1.RequestAuthentication{
				Selector: &typev1beta1.WorkloadSelector{MatchLabels: map[string]string{"istio": "ingressgateway"}},
				JwtRules: []*securityv1beta1.JWTRule{{Issuer: fmt.Sprintf("https://idp-%d.example.com", i), JwksUri: uri}},
			},
		})
		in.Keys[uri] = model.KeySet{Source: uri, JSON: keySet}
	}
	in.Store = model.NewStore(model.Mesh{}, objs)
	b.ReportAllocs()
	for b.Loop() {
		if r, _ := translate.Proxy(in); len(r.KeySources) != issuers {
			b.Fatalf("got %d key sources", len(r.KeySources))
		}
	}
}

// benchModulus is a 2048-bit RSA modulus (base64url), the size of a typical IdP key.
const benchModulus = "xAE7eB6qugXyCAG3yhh7pkDkT65pHymX-P7KfIupjf59vsdo91bSP9C8H07pSAGQO1MV_xFj9VswgsCg4R6otmg5PV2He95lZdHtOcU5DXIg_pbhLdKXbi66GlVeK6ABZOUW3WYtnNHD-91gVuoeJT_DwtGGcp4ignkgXfkiEm4sw-4sfb4qdt5oLbyVpmW6x9cfa7vs2WTfURiCrBoUqgBo_-4WTiULmmHSGZHOjzwa8WtrtOQGsAFjIbno85jp6MnGGGZPYZbDAa_b3y5u-YpW7ypZrvD8BgtKVjgtQgZhLAGezMt0ua3DRrWnKqTZ0BJ_EyxOGuHJrLsn00fnMQ"

package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	securityv1beta1 "istio.io/api/security/v1beta1"
	"sigs.k8s.io/yaml"
)

func TestValidateRequestAuthentication(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		spec string
		want []string // "field: [warning: ]reason"
	}{
		"valid": {spec: `
selector: {matchLabels: {app: a}}
jwtRules:
- {issuer: https://i, jwksUri: "https://i/keys", audiences: [a], fromHeaders: [{name: x-jwt, prefix: "Bearer "}],
   fromParams: [t], fromCookies: [c], outputClaimToHeaders: [{header: x-sub, claim: sub}], timeout: 2s,
   spaceDelimitedClaims: [roles]}
- {jwksUri: "http://no-issuer/keys"}`},
		"missing issuer and uri": {spec: `jwtRules: [{audiences: [a]}]`,
			want: []string{"spec.jwtRules[0]: issuer or jwksUri must be non-empty string"}},
		"jwks and jwksUri": {spec: `jwtRules: [{issuer: i, jwksUri: "https://i/k", jwks: '{"keys":[]}'}]`,
			want: []string{"spec.jwtRules[0]: only one of jwks or jwksUri can be set"}},
		"malformed jwks": {spec: `jwtRules: [{issuer: i, jwks: '{"keys":'}, {issuer: j, jwks: '{}'}, {issuer: k, jwks: '{"keys":[{"n":"x"}]}'}]`,
			want: []string{
				"spec.jwtRules[0].jwks: jwks parse error: unexpected end of JSON input",
				"spec.jwtRules[1].jwks: jwks parse error: want a JSON object with a keys array",
				"spec.jwtRules[2].jwks.keys[0]: jwks parse error: key has no kty",
			}},
		"private jwks members": {spec: `jwtRules: [{issuer: i, jwks: '{"keys":[{"kty":"RSA","n":"x","e":"AQAB","d":"y"},{"kty":"oct","k":"z"},{"kty":"EC","x":"a","y":"b"}]}'}]`,
			want: []string{
				"spec.jwtRules[0].jwks.keys[0]: warning: jwks key contains private key material; only public keys are used for verification and private members are not sent to proxies",
				"spec.jwtRules[0].jwks.keys[1]: warning: jwks key contains private key material; only public keys are used for verification and private members are not sent to proxies",
			}},
		"non-http uri": {spec: `jwtRules: [{issuer: i, jwksUri: "file:///etc/keys"}, {issuer: j, jwksUri: "https://"}]`,
			want: []string{
				`spec.jwtRules[0].jwksUri: URI scheme "file" is not supported: want http or https`,
				`spec.jwtRules[1].jwksUri: URI "https://" has no host`,
			}},
		"empty audiences and locations": {spec: `jwtRules: [{issuer: i, audiences: [a, ""], fromHeaders: [{name: ""}], fromParams: [""], fromCookies: [""]}]`,
			want: []string{
				"spec.jwtRules[0].audiences[1]: audience must be non-empty string",
				"spec.jwtRules[0].fromCookies[0]: cookie name must be non-empty string",
				"spec.jwtRules[0].fromHeaders[0].name: location header name must be non-empty string",
				"spec.jwtRules[0].fromParams[0]: location query must be non-empty string",
			}},
		"output headers": {spec: `jwtRules: [{issuer: i, outputPayloadToHeader: "x payload", outputClaimToHeaders: [{header: x-a}, {header: "x:b", claim: c}]}]`,
			want: []string{
				`spec.jwtRules[0].outputClaimToHeaders[0]: outputClaimToHeaders header and claim value must be non-empty string`,
				`spec.jwtRules[0].outputClaimToHeaders[1].header: "x:b" is not a valid header name: want letters, digits, '-' and '_'`,
				`spec.jwtRules[0].outputPayloadToHeader: "x payload" is not a valid header name: want letters, digits, '-' and '_'`,
			}},
		"timeout and claims": {spec: `jwtRules: [{issuer: i, timeout: 0.0005s, spaceDelimitedClaims: [""]}, {issuer: j, timeout: 1.0005s}]`,
			want: []string{
				"spec.jwtRules[0].spaceDelimitedClaims[0]: claim name must be non-empty string",
				"spec.jwtRules[0].timeout: duration must be greater than 1ms",
				"spec.jwtRules[1].timeout: only durations to ms precision are supported",
			}},
		"selector and targetRefs": {spec: `
selector: {matchLabels: {app: a}}
targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]`,
			want: []string{"spec.selector: only one of targetRefs or selector can be set"}},
		"targetRef and targetRefs": {spec: `
targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: a}
targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]`,
			want: []string{"spec.targetRef: only one of targetRef or targetRefs can be set"}},
		"bad targetRefs": {spec: `
targetRefs:
- {group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}
- {group: gateway.networking.k8s.io, kind: Gateway, namespace: other}
- {kind: Service, name: s}`,
			want: []string{
				"spec.targetRefs[0]: targetRef must be to a Gateway (gateway.networking.k8s.io), GatewayClass, Service or ServiceEntry, got gateway.networking.k8s.io/HTTPRoute",
				"spec.targetRefs[1].name: targetRef name must be set",
				"spec.targetRefs[1].namespace: must not be set: cross namespace referencing is not supported",
				"spec.targetRefs[2]: warning: targetRef /Service is accepted but only Gateway API Gateways select a proxy here: the policy applies to no proxy through it",
			}},
		"too many targetRefs": {spec: "targetRefs:\n" + repeatLine("- {group: gateway.networking.k8s.io, kind: Gateway, name: g}\n", 17),
			want: []string{"spec.targetRefs: may not have more than 16 items, got 17"}},
		"empty selector": {spec: `selector: {}`,
			want: []string{"spec.selector: warning: workload selector specified without labels: it selects every workload"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			js, err := yaml.YAMLToJSON([]byte(tc.spec))
			if err != nil {
				t.Fatal(err)
			}
			spec := &securityv1beta1.RequestAuthentication{}
			if err := protojson.Unmarshal(js, spec); err != nil {
				t.Fatalf("spec: %v", err)
			}
			ra := &RequestAuthentication{Meta: Meta{Kind: KindRequestAuthentication, Namespace: "foo", Name: "jwt"}, Spec: spec}
			var got []string
			for _, p := range Validate(ra, Mesh{}) {
				s := p.Field + ": "
				if p.Severity == SeverityWarning {
					s += "warning: "
				}
				got = append(got, s+p.Reason)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func repeatLine(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

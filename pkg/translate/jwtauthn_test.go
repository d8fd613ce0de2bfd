package translate

import (
	"crypto/rsa"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/plainenvoy/controlplane/internal/jwttest"
	"github.com/plainenvoy/controlplane/pkg/explain"
	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
)

// jwtNow is the verification time of the behaviour tests.
var jwtNow = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)

var jwtTestProxy = model.Proxy{Role: model.RoleSidecar, Namespace: "foo", ServiceAccount: "httpbin", Labels: map[string]string{"app": "httpbin"}}

// jwtInputs decodes RequestAuthentications written as YAML documents.
func jwtInputs(t testing.TB, proxy model.Proxy, keys map[string]string, docs string) Inputs {
	t.Helper()
	objs, problems := file.Decode("test.yaml", []byte(docs))
	if len(problems) > 0 {
		t.Fatalf("decode: %v", problems)
	}
	ks := map[string]model.KeySet{}
	for src, js := range keys {
		ks[src] = model.KeySet{Source: src, JSON: js}
	}
	return Inputs{Store: model.NewStore(model.Mesh{}, objs), Proxy: proxy, Keys: ks}
}

func jwtRADoc(ns, name, spec string) string {
	return "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n" + spec + "\n---\n"
}

func jwtProblemStrings(ps []model.Problem) []string {
	var out []string
	for _, p := range model.SortProblems(ps) {
		out = append(out, p.String())
	}
	return out
}

func jwtLocalKeys(keys string) *jwtauthnv3.JwtProvider_LocalJwks {
	return &jwtauthnv3.JwtProvider_LocalJwks{LocalJwks: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: keys}}}
}

func jwtNormalized(claims ...string) *jwtauthnv3.JwtProvider_NormalizePayload {
	if len(claims) == 0 {
		claims = []string{"permission", "scope"}
	}
	return &jwtauthnv3.JwtProvider_NormalizePayload{SpaceDelimitedClaims: claims}
}

func jwtEveryPath(req *jwtauthnv3.JwtRequirement) []*jwtauthnv3.RequirementRule {
	return []*jwtauthnv3.RequirementRule{{
		Match:           &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		RequirementType: &jwtauthnv3.RequirementRule_Requires{Requires: req},
	}}
}

// TestJWTAuthnConfig pins the emitted config field by field (SEMANTICS.md §2.1–§2.3).
func TestJWTAuthnConfig(t *testing.T) {
	t.Parallel()
	const keysA = `{"keys":[{"e":"AQAB","kid":"a","kty":"RSA","n":"AQAB"}]}`
	tests := map[string]struct {
		docs         string
		want         *jwtauthnv3.JwtAuthentication
		wantProblems []string
	}{
		"no policy, no filter": {docs: jwtRADoc("bar", "other", "  jwtRules: [{issuer: x}]")},
		"every field of one rule": {
			docs: jwtRADoc("foo", "jwt", `  jwtRules:
  - issuer: https://a.example
    audiences: [api]
    fromHeaders: [{name: x-token, prefix: "Token "}]
    fromParams: [tok]
    fromCookies: [session]
    outputPayloadToHeader: x-payload
    forwardOriginalToken: true
    outputClaimToHeaders: [{header: x-sub, claim: sub}]
    spaceDelimitedClaims: [roles, scope]`),
			want: &jwtauthnv3.JwtAuthentication{
				BypassCorsPreflight: true,
				Providers: map[string]*jwtauthnv3.JwtProvider{"origins-0": {
					Issuer: "https://a.example", Audiences: []string{"api"}, JwksSourceSpecifier: jwtLocalKeys(keysA),
					Forward: true, FromHeaders: []*jwtauthnv3.JwtHeader{{Name: "x-token", ValuePrefix: "Token "}},
					FromParams: []string{"tok"}, FromCookies: []string{"session"}, ForwardPayloadHeader: "x-payload",
					PayloadInMetadata: "payload", NormalizePayloadInMetadata: jwtNormalized("permission", "roles", "scope"),
					ClaimToHeaders: []*jwtauthnv3.JwtClaimToHeader{{HeaderName: "x-sub", ClaimName: "sub"}},
				}},
				Rules: jwtEveryPath(requiresAny(providerRequirement("origins-0"), allowMissing())),
			},
		},
		"two issuers sorted, outer OR": {
			docs: jwtRADoc("foo", "b", "  jwtRules: [{issuer: https://b.example, jwksUri: https://b.example/keys}]") +
				jwtRADoc("istio-system", "a", "  jwtRules: [{issuer: https://a.example}]"),
			want: &jwtauthnv3.JwtAuthentication{
				BypassCorsPreflight: true,
				Providers: map[string]*jwtauthnv3.JwtProvider{
					"origins-0": {Issuer: "https://a.example", JwksSourceSpecifier: jwtLocalKeys(keysA), PayloadInMetadata: "payload", NormalizePayloadInMetadata: jwtNormalized()},
					"origins-1": {Issuer: "https://b.example", JwksSourceSpecifier: jwtLocalKeys(unfetchedJWKS), PayloadInMetadata: "payload", NormalizePayloadInMetadata: jwtNormalized()},
				},
				Rules: jwtEveryPath(requiresAny(providerRequirement("origins-0"), providerRequirement("origins-1"),
					&jwtauthnv3.JwtRequirement{RequiresType: &jwtauthnv3.JwtRequirement_RequiresAll{RequiresAll: &jwtauthnv3.JwtRequirementAndList{
						Requirements: []*jwtauthnv3.JwtRequirement{
							requiresAny(providerRequirement("origins-0"), allowMissing()),
							requiresAny(providerRequirement("origins-1"), allowMissing()),
						},
					}}})),
			},
			wantProblems: []string{`test.yaml:1: RequestAuthentication foo/b: spec.jwtRules[0]: warning: keys from https://b.example/keys have not been fetched yet: tokens of issuer "https://b.example" are rejected until they are`},
		},
		"inline jwks private members stripped": {
			docs: jwtRADoc("foo", "jwt", `  jwtRules: [{issuer: i, jwks: '{"keys":[{"kty":"RSA","e":"AQAB","n":"AQAB","d":"secret","p":"x"},{"kty":"oct","k":"c2VjcmV0"}]}'}]`),
			want: &jwtauthnv3.JwtAuthentication{
				BypassCorsPreflight: true,
				Providers: map[string]*jwtauthnv3.JwtProvider{"origins-0": {
					Issuer: "i", JwksSourceSpecifier: jwtLocalKeys(`{"keys":[{"e":"AQAB","kty":"RSA","n":"AQAB"}]}`), PayloadInMetadata: "payload", NormalizePayloadInMetadata: jwtNormalized(),
				}},
				Rules: jwtEveryPath(requiresAny(providerRequirement("origins-0"), allowMissing())),
			},
			wantProblems: []string{
				`test.yaml:1: RequestAuthentication foo/jwt: spec.jwtRules[0].jwks.keys[0]: warning: key contains private material (d, p): removed before sending to proxies; rotate this key`,
				`test.yaml:1: RequestAuthentication foo/jwt: spec.jwtRules[0].jwks.keys[1]: warning: symmetric (oct) keys are secret and are not sent to proxies: key dropped`,
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := jwtInputs(t, jwtTestProxy, map[string]string{"https://a.example": keysA}, tc.docs)
			got, problems := jwtAuthn(in)
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantProblems, jwtProblemStrings(problems)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJWTAuthnProblems covers the fail-closed branches: each gives the placeholder key set.
func TestJWTAuthnProblems(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		rule, want  string
		placeholder bool
	}{
		"jwks and jwksUri":  {`{issuer: i, jwksUri: "https://x/k", jwks: '{"keys":[]}'}`, "spec.jwtRules[0]: only one of jwks or jwksUri can be set: tokens of this rule are rejected", true},
		"no issuer, no uri": {`{audiences: [a]}`, "spec.jwtRules[0]: issuer or jwksUri must be non-empty string: tokens of this rule are rejected", true},
		"malformed jwks":    {`{issuer: i, jwks: 'nope'}`, "spec.jwtRules[0].jwks: jwks parse error: invalid character 'o' in literal null (expecting 'u'): tokens of this rule are rejected", true},
		"no public key":     {`{issuer: i, jwks: '{"keys":[]}'}`, "spec.jwtRules[0].jwks: jwks has no usable public key: tokens of this rule are rejected", true},
		"claim header name": {`{issuer: i, jwks: '{"keys":[{"kty":"EC"}]}', outputClaimToHeaders: [{header: "bad header", claim: sub}]}`, `spec.jwtRules[0].outputClaimToHeaders[0]: header must be a valid header name ([-_A-Za-z0-9]+) and claim non-empty, got "bad header" and "sub": not copied`, false},
		"location name":     {`{issuer: i, jwks: '{"keys":[{"kty":"EC"}]}', fromHeaders: [{name: "a:b"}]}`, `spec.jwtRules[0].fromHeaders[0].name: "a:b" is not a valid header name ([-_A-Za-z0-9]+): location ignored`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, problems := jwtAuthn(jwtInputs(t, jwtTestProxy, nil, jwtRADoc("foo", "jwt", "  jwtRules: ["+tc.rule+"]")))
			got := jwtProblemStrings(problems)
			if len(got) != 1 || !strings.Contains(got[0], tc.want) {
				t.Fatalf("problems = %q, want one containing %q", got, tc.want)
			}
			if ks := cfg.GetProviders()["origins-0"].GetLocalJwks().GetInlineString(); (ks == unfetchedJWKS) != tc.placeholder {
				t.Errorf("keys = %s, want placeholder %v", ks, tc.placeholder)
			}
		})
	}
}

// TestJWTAuthnSelection pins which policies reach which proxy (SEMANTICS.md §1.1).
func TestJWTAuthnSelection(t *testing.T) {
	t.Parallel()
	docs := jwtRADoc("istio-system", "mesh-selector", "  selector: {matchLabels: {app: httpbin}}\n  jwtRules: [{issuer: root}]") +
		jwtRADoc("foo", "other-app", "  selector: {matchLabels: {app: other}}\n  jwtRules: [{issuer: other}]") +
		jwtRADoc("foo", "gw", "  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]\n  jwtRules: [{issuer: gw}]")
	gwProxy := model.Proxy{Role: model.RoleGateway, Namespace: "foo", Labels: map[string]string{model.GatewayNameLabel: "gw"}}
	for _, tc := range []struct {
		proxy model.Proxy
		want  []string
	}{
		{jwtTestProxy, []string{"root"}},
		{gwProxy, []string{"gw"}},
		{model.Proxy{Role: model.RoleSidecar, Namespace: "bar", Labels: map[string]string{"app": "httpbin"}}, []string{"root"}},
	} {
		var got []string
		for _, r := range applicableJWTRules(jwtInputs(t, tc.proxy, nil, docs)) {
			got = append(got, r.rule.GetIssuer())
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("proxy %s/%v: issuers (-want +got):\n%s", tc.proxy.Namespace, tc.proxy.Labels, diff)
		}
	}
	sources := jwtKeySources(jwtInputs(t, gwProxy, nil, docs+jwtRADoc("foo", "inline", "  jwtRules: [{issuer: x, jwks: '{}'}, {issuer: gw, jwksUri: 'https://gw/k'}]")))
	if diff := cmp.Diff([]string{"gw", "https://gw/k"}, sources); diff != "" {
		t.Errorf("key sources (-want +got):\n%s", diff)
	}
}

// jwtSigner mints tokens for the behaviour tests (verification time: jwtNow).
type jwtSigner struct{ jwttest.Signer }

// newJWTSigner returns a signer and its public key set (kid and alg set).
func newJWTSigner(t *testing.T, alg jose.SignatureAlgorithm, kid string) (jwtSigner, string) {
	t.Helper()
	s := jwttest.New(t, alg, kid)
	return jwtSigner{s}, jwttest.JWKS(t, true, s)
}

func (s jwtSigner) mint(t *testing.T, claims map[string]any) string {
	t.Helper()
	return s.Mint(t, claims, jwtNow)
}

func evalJWT(t *testing.T, in Inputs, tok string) explain.Result {
	t.Helper()
	cfg, _ := jwtAuthn(in)
	if cfg == nil {
		t.Fatal("no jwt_authn config")
	}
	req := explain.Request{Method: "GET", Host: "h", Path: "/", Now: jwtNow}
	if tok != "" {
		req.Headers = map[string][]string{"authorization": {"Bearer " + tok}}
	}
	res, err := explain.JWT(cfg, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestJWTAuthnBehaviour translates RequestAuthentications and checks what Envoy does with the
// result (SEMANTICS.md §2.3 table), through the explain evaluator.
func TestJWTAuthnBehaviour(t *testing.T) {
	t.Parallel()
	rs, rsKeys := newJWTSigner(t, jose.RS256, "rs")
	es, esKeys := newJWTSigner(t, jose.ES256, "es")
	ed, edKeys := newJWTSigner(t, jose.EdDSA, "ed")
	ps, psKeys := newJWTSigner(t, jose.PS256, "ps")
	keys := map[string]string{"https://rs/k": rsKeys, "https://es.example": esKeys, "https://ed/k": edKeys, "https://ps/k": psKeys}
	docs := jwtRADoc("foo", "jwt", `  jwtRules:
  - {issuer: https://rs.example, jwksUri: "https://rs/k", audiences: [api]}
  - {issuer: https://es.example}
  - {issuer: https://ed.example, jwksUri: "https://ed/k"}
  - {issuer: https://ps.example, jwksUri: "https://ps/k"}
  - {issuer: https://never.example}`)
	in := jwtInputs(t, jwtTestProxy, keys, docs)
	claims := func(iss string, kv ...any) map[string]any {
		c := map[string]any{"iss": iss, "sub": "alice", "aud": "api"}
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	never, _ := newJWTSigner(t, jose.RS256, "unfetched")
	tests := map[string]struct {
		tok      string
		wantCode int // 0 = passes
	}{
		"no token passes":            {"", 0},
		"garbage is 401":             {"deadbeef", 401},
		"valid RS256 passes":         {rs.mint(t, claims("https://rs.example")), 0},
		"valid ES256 sharing header": {es.mint(t, claims("https://es.example")), 0},
		"valid EdDSA sharing header": {ed.mint(t, claims("https://ed.example")), 0},
		"valid PS256 sharing header": {ps.mint(t, claims("https://ps.example")), 0},
		"expired beyond skew is 401": {rs.mint(t, claims("https://rs.example", "exp", jwtNow.Add(-61*time.Second).Unix())), 401},
		"expired by 30s passes":      {rs.mint(t, claims("https://rs.example", "exp", jwtNow.Add(-30*time.Second).Unix())), 0},
		// Not 403: with several providers the last branch (the AND) fails first at
		// any{origins-0, allow_missing}, whose issuer is another one (see the single-provider check).
		"wrong audience, several providers": {rs.mint(t, claims("https://rs.example", "aud", "other")), 401},
		"unknown issuer is 401":             {rs.mint(t, claims("https://nobody.example")), 401},
		"other issuer's key is 401":         {es.mint(t, claims("https://ed.example")), 401},
		"never-fetched issuer is 401":       {never.mint(t, claims("https://never.example")), 401},
		"never-fetched, no kid is 401":      {jwtSigner{jwttest.Signer{Alg: jose.RS256, Key: never.Key}}.mint(t, claims("https://never.example")), 401},
		"alg none is 401":                   {"eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL3JzLmV4YW1wbGUiLCJhdWQiOiJhcGkifQ.", 401},
		"alg none with a signature 401":     {"eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL3JzLmV4YW1wbGUiLCJhdWQiOiJhcGkifQ.c2ln", 401},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := evalJWT(t, in, tc.tok)
			if tc.wantCode == 0 {
				if !res.Allowed {
					t.Fatalf("rejected %d %q, want pass", res.Code, res.Body)
				}
				if tc.tok != "" && res.Metadata["payload"]["sub"] != "alice" {
					t.Errorf("metadata = %v, want the verified payload under \"payload\"", res.Metadata)
				}
				return
			}
			if res.Allowed || res.Code != tc.wantCode {
				t.Errorf("got allowed=%v %d %q, want %d", res.Allowed, res.Code, res.Body, tc.wantCode)
			}
		})
	}

	// Bodies are only stable with one provider (§2.3): check them there.
	single := jwtInputs(t, jwtTestProxy, keys, jwtRADoc("foo", "jwt", `  jwtRules: [{issuer: https://rs.example, jwksUri: "https://rs/k", audiences: [api]}]`))
	for tok, want := range map[string]struct {
		code int
		body string
	}{
		rs.mint(t, claims("https://rs.example", "exp", jwtNow.Add(-61*time.Second).Unix())): {401, "Jwt is expired"},
		rs.mint(t, claims("https://other.example")):                                         {401, "Jwt issuer is not configured"},
		rs.mint(t, claims("https://rs.example", "aud", "other")):                            {403, "Audiences in Jwt are not allowed"},
		"deadbeef": {401, "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"},
	} {
		if res := evalJWT(t, single, tok); res.Code != want.code || res.Body != want.body {
			t.Errorf("single provider: %d %q, want %d %q", res.Code, res.Body, want.code, want.body)
		}
	}
}

// TestJWTAuthnLeakedIstioKey is the SEMANTICS.md §8.2 regression: tokens signed with the RSA
// key Istio published as its JWKS-failure placeholder (FakeJwks, istio/istio#47673, fixed by
// #59370) must be rejected by every config we emit, the never-fetched placeholder included.
func TestJWTAuthnLeakedIstioKey(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/jwt-istio-leaked-fakejwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("leaked key set: %v", err)
	}
	leaked := set.Keys[0].Key
	_, fetched := newJWTSigner(t, jose.RS256, "real")
	configs := map[string]Inputs{
		"never fetched": jwtInputs(t, jwtTestProxy, nil, jwtRADoc("foo", "jwt", "  jwtRules: [{issuer: https://i.example}]")),
		"fetched":       jwtInputs(t, jwtTestProxy, map[string]string{"https://i.example": fetched}, jwtRADoc("foo", "jwt", "  jwtRules: [{issuer: https://i.example}]")),
		"inline":        jwtInputs(t, jwtTestProxy, nil, jwtRADoc("foo", "jwt", "  jwtRules: [{issuer: https://i.example, jwks: '"+fetched+"'}]")),
		"two issuers":   jwtInputs(t, jwtTestProxy, map[string]string{"https://j.example": fetched}, jwtRADoc("foo", "jwt", "  jwtRules: [{issuer: https://i.example}, {issuer: https://j.example}]")),
	}
	for name, in := range configs {
		for _, kid := range []string{"", "unfetched", "real"} {
			tok := jwtSigner{jwttest.Signer{Alg: jose.RS256, KID: kid, Key: leaked}}.mint(t, map[string]any{"iss": "https://i.example", "sub": "attacker"})
			if res := evalJWT(t, in, tok); res.Allowed || res.Code != 401 {
				t.Errorf("%s, kid %q: forged token got allowed=%v %d, want 401", name, kid, res.Allowed, res.Code)
			}
		}
	}
}

// TestJWTPlaceholderPublicOnly checks the placeholder is a usable public-only key set, so Envoy
// accepts it and nothing can verify against it.
func TestJWTPlaceholderPublicOnly(t *testing.T) {
	t.Parallel()
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal([]byte(unfetchedJWKS), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("placeholder: %v", err)
	}
	for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
		if _, ok := set.Keys[0][m]; ok {
			t.Errorf("placeholder has private member %q", m)
		}
	}
	var key jose.JSONWebKey
	if err := key.UnmarshalJSON(mustJSON(t, set.Keys[0])); err != nil || !key.IsPublic() || key.KeyID != "unfetched" {
		t.Errorf("placeholder key: err=%v public=%v kid=%q", err, key.IsPublic(), key.KeyID)
	}
	if n := key.Key.(*rsa.PublicKey).N.BitLen(); n != 2048 {
		t.Errorf("placeholder modulus is %d bits, want 2048", n)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestJWTAuthnIstioDemoToken: Istio's documented demo token verifies through the config
// generated for the docs' RequestAuthentication.
func TestJWTAuthnIstioDemoToken(t *testing.T) {
	t.Parallel()
	keys, err := os.ReadFile("../explain/testdata/istio-samples/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile("../explain/testdata/istio-samples/demo.jwt")
	if err != nil {
		t.Fatal(err)
	}
	const uri = "https://raw.githubusercontent.com/istio/istio/release-1.31/security/tools/jwt/samples/jwks.json"
	in := jwtInputs(t, jwtTestProxy, map[string]string{uri: string(keys)},
		jwtRADoc("foo", "jwt-example", "  jwtRules: [{issuer: testing@secure.istio.io, jwksUri: "+uri+"}]"))
	res := evalJWT(t, in, strings.TrimSpace(string(tok)))
	if !res.Allowed || res.Metadata["payload"]["foo"] != "bar" {
		t.Fatalf("demo.jwt: allowed=%v %d %q metadata=%v", res.Allowed, res.Code, res.Body, res.Metadata)
	}
}

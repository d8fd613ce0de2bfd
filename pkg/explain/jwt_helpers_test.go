package explain_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	jose "github.com/go-jose/go-jose/v4"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/plainenvoy/controlplane/internal/jwttest"
)

// now is the fixed verification time of every test.
var now = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)

// signer is a key pair a test mints tokens with (verification time: now).
type signer struct{ jwttest.Signer }

func newSigner(t *testing.T, alg jose.SignatureAlgorithm, kid string) signer {
	t.Helper()
	return signer{jwttest.New(t, alg, kid)}
}

// jwks returns the public key set of the given signers, with kid and without alg.
func jwks(t *testing.T, ss ...signer) string {
	t.Helper()
	keys := make([]jwttest.Signer, len(ss))
	for i, s := range ss {
		keys[i] = s.Signer
	}
	return jwttest.JWKS(t, false, keys...)
}

// mint signs claims; exp defaults to an hour after now unless claims set it.
func (s signer) mint(t *testing.T, claims map[string]any) string {
	t.Helper()
	return s.Mint(t, claims, now)
}

// unsigned builds an alg:none token with the given signature section.
func unsigned(claims map[string]any, sig string) string {
	h, _ := json.Marshal(map[string]any{"alg": "none", "typ": "JWT"})
	p, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(p) + "." + sig
}

func provider(issuer, keys string) *jwtauthnv3.JwtProvider {
	return &jwtauthnv3.JwtProvider{
		Issuer:              issuer,
		JwksSourceSpecifier: &jwtauthnv3.JwtProvider_LocalJwks{LocalJwks: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: keys}}},
		PayloadInMetadata:   "payload",
	}
}

func byName(n string) *jwtauthnv3.JwtRequirement {
	return &jwtauthnv3.JwtRequirement{RequiresType: &jwtauthnv3.JwtRequirement_ProviderName{ProviderName: n}}
}

func anyOf(rs ...*jwtauthnv3.JwtRequirement) *jwtauthnv3.JwtRequirement {
	return &jwtauthnv3.JwtRequirement{RequiresType: &jwtauthnv3.JwtRequirement_RequiresAny{RequiresAny: &jwtauthnv3.JwtRequirementOrList{Requirements: rs}}}
}

func allOf(rs ...*jwtauthnv3.JwtRequirement) *jwtauthnv3.JwtRequirement {
	return &jwtauthnv3.JwtRequirement{RequiresType: &jwtauthnv3.JwtRequirement_RequiresAll{RequiresAll: &jwtauthnv3.JwtRequirementAndList{Requirements: rs}}}
}

func allowMissing() *jwtauthnv3.JwtRequirement {
	return &jwtauthnv3.JwtRequirement{RequiresType: &jwtauthnv3.JwtRequirement_AllowMissing{AllowMissing: &emptypb.Empty{}}}
}

// config builds a filter config with one rule for every path.
func config(req *jwtauthnv3.JwtRequirement, providers map[string]*jwtauthnv3.JwtProvider) *jwtauthnv3.JwtAuthentication {
	return &jwtauthnv3.JwtAuthentication{
		Providers:           providers,
		BypassCorsPreflight: true,
		Rules: []*jwtauthnv3.RequirementRule{{
			Match:           &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
			RequirementType: &jwtauthnv3.RequirementRule_Requires{Requires: req},
		}},
	}
}

func bearer(tok string) map[string][]string {
	return map[string][]string{"Authorization": {"Bearer " + tok}}
}

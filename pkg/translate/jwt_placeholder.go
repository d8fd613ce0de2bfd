package translate

import (
	"encoding/json"
	"fmt"
	"strings"

	securityv1beta1 "istio.io/api/security/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// unfetchedJWKS is the key set of a provider whose keys were never fetched (SEMANTICS.md §2.5).
// Envoy NACKs a provider without a usable key, so it gets this one: a constant RSA-2048 public
// key generated once offline whose private half was never stored anywhere, so no token can ever
// verify against it. It is constant, not per process, so replicas emit byte-identical config;
// Istio's FakeJwks placeholder shipped with its private half in source (istio/istio#59370).
// The kid "unfetched" makes tokens carrying a kid fail with "Jwks doesn't have key to match kid
// or alg from Jwt"; tokens without one fail signature verification.
const unfetchedJWKS = `{"keys":[{"alg":"RS256","e":"AQAB","kid":"unfetched","kty":"RSA",` +
	`"n":"w-093yge58kiYnd07gw7RwaBoQzmWsakiIgIwKTvLAT2wBtFlZQ9Vbsf0AbUV7NdNlweo97C5JJiBMK31YbeOqxsSklH` +
	`-IZBXf60ioCdZXNidkT4qSqgiVyjQLD1EeUbPAtOc0yNiqd_-b8L6r7rJrnT147hUfvAngLuxgqmeUp-IuFpNl4iGsv1m7mhN` +
	`L6jtLL77W0Vuj0iXG9G-8hkABZVqpPsE-q7pH8Py_VRvzzmjp7fnCyLmz2k4qw1usQkZIXbWxPPyUb8ozVVU7wK6xthBESzk7` +
	`t2aTPd5mfuEASaOGGtezIFprYYzVGtdo4QxiFrPNlBS9T_azqW3jSX3w","use":"sig"}]}`

// ruleKeys returns the JWKS JSON to inline for one rule and the problems found choosing it.
// Every branch that cannot produce real public keys falls back to unfetchedJWKS, so the issuer's
// tokens are rejected rather than the whole filter NACKed.
func ruleKeys(in Inputs, ra *model.RequestAuthentication, field string, r *securityv1beta1.JWTRule) (string, []model.Problem) {
	switch {
	case r.GetJwks() != "" && r.GetJwksUri() != "":
		return unfetchedJWKS, []model.Problem{model.ProblemFor(&ra.Meta, model.SeverityError, field,
			"only one of jwks or jwksUri can be set: tokens of this rule are rejected")}
	case r.GetJwks() != "":
		return inlineKeys(ra, field+".jwks", r.GetJwks())
	case r.GetJwksUri() == "" && r.GetIssuer() == "":
		return unfetchedJWKS, []model.Problem{model.ProblemFor(&ra.Meta, model.SeverityError, field,
			"issuer or jwksUri must be non-empty string: tokens of this rule are rejected")}
	}
	src := model.JWKSSource(r.GetJwksUri(), r.GetIssuer())
	if ks, ok := in.Keys[src]; ok && ks.JSON != "" {
		return ks.JSON, nil
	}
	return unfetchedJWKS, []model.Problem{model.ProblemFor(&ra.Meta, model.SeverityWarning, field,
		"keys from %s have not been fetched yet: tokens of issuer %q are rejected until they are", src, r.GetIssuer())}
}

// inlineKeys re-serialises an inline jwks with private members removed. Symmetric ("oct") keys
// are secret as a whole, so they are dropped rather than published to every proxy.
func inlineKeys(ra *model.RequestAuthentication, field, raw string) (string, []model.Problem) {
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(raw), &set); err != nil || set.Keys == nil {
		reason := "jwks parse error: want a JSON object with a keys array"
		if err != nil {
			reason = fmt.Sprintf("jwks parse error: %v", err)
		}
		return unfetchedJWKS, []model.Problem{model.ProblemFor(&ra.Meta, model.SeverityError, field,
			"%s: tokens of this rule are rejected", reason)}
	}
	var problems []model.Problem
	keys := make([]map[string]any, 0, len(set.Keys))
	for i, k := range set.Keys {
		if k["kty"] == "oct" {
			problems = append(problems, model.ProblemFor(&ra.Meta, model.SeverityWarning, fmt.Sprintf("%s.keys[%d]", field, i),
				"symmetric (oct) keys are secret and are not sent to proxies: key dropped"))
			continue
		}
		var stripped []string
		// The members carrying private material (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2): Envoy
		// never needs them, and everything inlined shows in config_dump.
		for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "oth"} {
			if _, ok := k[m]; ok {
				delete(k, m)
				stripped = append(stripped, m)
			}
		}
		if len(stripped) > 0 {
			problems = append(problems, model.ProblemFor(&ra.Meta, model.SeverityWarning, fmt.Sprintf("%s.keys[%d]", field, i),
				"key contains private material (%s): removed before sending to proxies; rotate this key", strings.Join(stripped, ", ")))
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return unfetchedJWKS, append(problems, model.ProblemFor(&ra.Meta, model.SeverityError, field,
			"jwks has no usable public key: tokens of this rule are rejected"))
	}
	// encoding/json sorts map keys, so equal input gives equal bytes.
	out, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		return unfetchedJWKS, append(problems, model.ProblemFor(&ra.Meta, model.SeverityError, field,
			"jwks cannot be re-encoded: %v", err))
	}
	return string(out), problems
}

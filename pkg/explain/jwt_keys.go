package explain

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	_ "crypto/sha256" // hashes jwt_verify_lib uses
	_ "crypto/sha512"
	"encoding/json"
	"math/big"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// jwk is one usable key of a key set, as jwt_verify_lib keeps it.
type jwk struct {
	kty, kid, alg, crv string
	key                any // *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey or []byte (oct)
}

// parseJWKS reads a JWKS the way jwt_verify_lib's Jwks::createFromJwksCore does: keys that
// fail their checks are skipped, and a set without any usable key is nil (Envoy then answers
// "Jwks doesn't have any valid public key"). Key material is decoded by go-jose.
func parseJWKS(s string) []jwk {
	var set map[string]json.RawMessage
	if json.Unmarshal([]byte(s), &set) != nil {
		return nil
	}
	var raws []json.RawMessage
	if json.Unmarshal(set["keys"], &raws) != nil {
		return nil
	}
	var keys []jwk
	for _, raw := range raws {
		if k, ok := parseJWK(raw); ok {
			keys = append(keys, k)
		}
	}
	return keys
}

func parseJWK(raw json.RawMessage) (jwk, bool) {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return jwk{}, false
	}
	var k jwk
	if getString(m, "kty", &k.kty) != found {
		return jwk{}, false
	}
	_ = getString(m, "kid", &k.kid)
	_ = getString(m, "alg", &k.alg)
	switch k.kty {
	case "RSA":
		if k.alg != "" && !strings.HasPrefix(k.alg, "RS") && !strings.HasPrefix(k.alg, "PS") {
			return jwk{}, false
		}
	case "EC":
		if !k.ecCurve(m) {
			return jwk{}, false
		}
	case "oct":
		if k.alg != "" && k.alg != "HS256" && k.alg != "HS384" && k.alg != "HS512" {
			return jwk{}, false
		}
	case "OKP":
		if (k.alg != "" && k.alg != "EdDSA") || getString(m, "crv", &k.crv) != found || k.crv != "Ed25519" {
			return jwk{}, false
		}
	default:
		return jwk{}, false
	}
	// go-jose needs the curve jwt_verify_lib may have derived from alg; alg was checked above
	// by jwt_verify_lib's rules, which go-jose must not second-guess.
	if k.kty == "EC" {
		m["crv"] = k.crv
	}
	delete(m, "alg")
	fixed, _ := json.Marshal(m)
	var jk jose.JSONWebKey
	if jk.UnmarshalJSON(fixed) != nil {
		return jwk{}, false
	}
	k.key = jk.Key
	if !jk.IsPublic() && k.kty != "oct" {
		k.key = jk.Public().Key
	}
	return k, true
}

// ecCurve applies jwt_verify_lib's EC rules: alg must be ES*, alg and crv must agree, and
// neither means P-256.
func (k *jwk) ecCurve(m map[string]any) bool {
	if k.alg != "" && !strings.HasPrefix(k.alg, "ES") {
		return false
	}
	if getString(m, "crv", &k.crv) == wrongType {
		return false
	}
	byAlg := map[string]string{"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
	if k.alg != "" && k.crv != "" && byAlg[k.alg] != k.crv {
		return false
	}
	if k.crv == "" {
		k.crv = byAlg[k.alg]
		if k.alg == "" {
			k.crv = "P-256"
		}
	}
	return k.crv == "P-256" || k.crv == "P-384" || k.crv == "P-521"
}

// verifySignature is jwt_verify_lib's verifyJwtWithoutTimeChecking: keys are tried in order,
// skipping those whose kid (when both sides have one) or alg (when the key has one) differs.
// The check is chosen by the key's type, not the token's alg, exactly as there.
func verifySignature(t *token, keys []jwk) Status {
	signed := []byte(t.headerB64 + "." + t.payloadB64)
	matched := false
	for _, k := range keys {
		if t.kid != "" && k.kid != "" && k.kid != t.kid {
			continue
		}
		if k.alg != "" && k.alg != t.alg {
			continue
		}
		matched = true
		switch k.kty {
		case "EC":
			if verifyEC(k.key, hashFor(t.alg, "ES"), t.signature, signed) {
				return StatusOK
			}
		case "RSA":
			if verifyRSA(k.key, t.alg, t.signature, signed) {
				return StatusOK
			}
		case "oct":
			if verifyHMAC(k.key, hashFor(t.alg, "HS"), t.signature, signed) {
				return StatusOK
			}
		case "OKP":
			if len(t.signature) != ed25519.SignatureSize {
				return StatusJwtEd25519SignatureWrongLength
			}
			if pub, ok := k.key.(ed25519.PublicKey); ok && ed25519.Verify(pub, signed, t.signature) {
				return StatusOK
			}
		}
	}
	if matched {
		return StatusJwtVerificationFail
	}
	return StatusJwksKidAlgMismatch
}

// hashFor picks the digest from the alg's size suffix; anything else means SHA-256.
func hashFor(alg, family string) crypto.Hash {
	switch alg {
	case family + "384":
		return crypto.SHA384
	case family + "512":
		return crypto.SHA512
	}
	return crypto.SHA256
}

func digest(h crypto.Hash, data []byte) []byte {
	d := h.New()
	d.Write(data)
	return d.Sum(nil)
}

func verifyRSA(key any, alg string, sig, signed []byte) bool {
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return false
	}
	switch {
	case strings.HasPrefix(alg, "RS"):
		h := hashFor(alg, "RS")
		return rsa.VerifyPKCS1v15(pub, h, digest(h, signed), sig) == nil
	case strings.HasPrefix(alg, "PS"):
		h := hashFor(alg, "PS")
		return rsa.VerifyPSS(pub, h, digest(h, signed), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
	}
	return false
}

// verifyEC reads the signature as r||s split in the middle (JWS, RFC 7518 §3.4).
func verifyEC(key any, h crypto.Hash, sig, signed []byte) bool {
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok || len(sig) == 0 {
		return false
	}
	half := len(sig) / 2
	r, s := new(big.Int).SetBytes(sig[:half]), new(big.Int).SetBytes(sig[half:2*half])
	return ecdsa.Verify(pub, digest(h, signed), r, s)
}

func verifyHMAC(key any, h crypto.Hash, sig, signed []byte) bool {
	secret, ok := key.([]byte)
	if !ok {
		return false
	}
	mac := hmac.New(h.New, secret)
	mac.Write(signed)
	return hmac.Equal(mac.Sum(nil), sig)
}

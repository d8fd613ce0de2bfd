package jwks

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	jose "github.com/go-jose/go-jose/v4"
)

// keySet is a validated JWKS: its canonical JSON and what was left out of it.
type keySet struct {
	JSON    string
	Count   int
	Dropped []string // "kid \"a\": reason", for logs; never key material
	// HadPrivate is true when some key carried private members (stripped).
	HadPrivate bool
}

// privateMembers are the JWK members (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037) that hold
// secret material. They are removed before parsing, so nothing secret can reach an Envoy
// config_dump.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// canonicalKeySet parses a JWKS document and re-serialises the keys Envoy can verify with:
// public members only, duplicates removed, sorted, so equal sets give equal
// bytes. A document that is not a JSON object with a "keys" array, or that has no usable key,
// is an error: the caller keeps its last good set.
func canonicalKeySet(body []byte) (keySet, error) {
	var doc struct {
		Keys *[]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return keySet{}, &fetchError{reason: reasonParse, err: fmt.Errorf("jwks is not a JSON object with a keys array: %w", err)}
	}
	if doc.Keys == nil {
		return keySet{}, &fetchError{reason: reasonParse, err: errors.New(`jwks has no "keys" array`)}
	}
	var ks keySet
	var out [][]byte
	for i, raw := range *doc.Keys {
		b, kid, private, err := usableKey(raw)
		ks.HadPrivate = ks.HadPrivate || private
		if err != nil {
			ks.Dropped = append(ks.Dropped, fmt.Sprintf("keys[%d] kid %q: %v", i, kid, err))
			continue
		}
		out = append(out, b)
	}
	// Sorted by bytes so that the set's order never depends on the server's.
	slices.SortFunc(out, bytes.Compare)
	out = slices.CompactFunc(out, bytes.Equal)
	if len(out) == 0 {
		return ks, &fetchError{reason: reasonNoKeys, err: fmt.Errorf("jwks has no usable key (%d dropped)", len(ks.Dropped))}
	}
	ks.Count = len(out)
	ks.JSON = `{"keys":[` + string(bytes.Join(out, []byte(","))) + `]}`
	return ks, nil
}

// usableKey returns the canonical public form of one JWK, or why Envoy could not verify a
// token with it. It also returns the kid (for the log line) and whether private members were
// present.
func usableKey(raw json.RawMessage) (canon []byte, kid string, private bool, err error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, "", false, fmt.Errorf("not a JSON object")
	}
	kty, _ := stringMember(members, "kty")
	kid, _ = stringMember(members, "kid")
	use, _ := stringMember(members, "use")
	for _, m := range privateMembers {
		if _, ok := members[m]; ok {
			private = true
			delete(members, m)
		}
	}
	switch {
	case kty == "oct":
		// Envoy would accept an HMAC secret here, but a secret served from a URL and inlined
		// into every proxy's config is public: anyone could mint tokens with it.
		return nil, kid, private, errors.New(`symmetric "oct" keys are refused`)
	case kty != "RSA" && kty != "EC" && kty != "OKP":
		return nil, kid, private, fmt.Errorf("unsupported kty %q", kty)
	case use != "" && use != "sig":
		return nil, kid, private, fmt.Errorf("use %q is not sig", use)
	}
	public, _ := json.Marshal(members)
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(public); err != nil {
		return nil, kid, private, err
	}
	if !k.IsPublic() || !k.Valid() {
		return nil, kid, private, errors.New("not a usable public key")
	}
	if err := algFits(kty, k); err != nil {
		return nil, kid, private, err
	}
	canon, err = k.MarshalJSON()
	return canon, kid, private, err
}

// algFits rejects what google/jwt_verify_lib (Envoy's JWKS parser) rejects: an "alg" that
// does not belong to the key type or curve (JwksRSAKeyBadAlg, JwksECKeyAlgNotCompatible,
// JwksOKPKeyAlgNotCompatible), and OKP curves other than Ed25519.
func algFits(kty string, k jose.JSONWebKey) error {
	var ok []string
	switch kty {
	case "RSA":
		ok = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	case "EC":
		ok = []string{map[int]string{256: "ES256", 384: "ES384", 521: "ES512"}[curveBits(k)]}
	case "OKP":
		ok = []string{"EdDSA"}
	}
	if k.Algorithm == "" || slices.Contains(ok, k.Algorithm) {
		return nil
	}
	return fmt.Errorf("alg %q does not fit kty %s", k.Algorithm, kty)
}

func stringMember(m map[string]json.RawMessage, name string) (string, bool) {
	var s string
	err := json.Unmarshal(m[name], &s)
	return s, err == nil
}

// curveBits is the EC key's curve size (256, 384, 521), or 0.
func curveBits(k jose.JSONWebKey) int {
	if pub, ok := k.Key.(*ecdsa.PublicKey); ok && pub.Curve != nil {
		return pub.Curve.Params().BitSize
	}
	return 0
}

package explain

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
)

// token is a parsed JWT, with the fields jwt_verify_lib's Jwt class extracts.
type token struct {
	headerB64, payloadB64 string
	signature             []byte
	alg, kid, iss, sub    string
	iat, nbf, exp         uint64
	audiences             []string
	payload               map[string]any
}

// implementedAlgs are the algorithms jwt_verify_lib accepts in a JWT header (src/jwt.cc);
// anything else, "none" included, fails parsing.
func implementedAlg(alg string) bool {
	switch alg {
	case "ES256", "ES384", "ES512", "HS256", "HS384", "HS512",
		"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA":
		return true
	}
	return false
}

// parseToken follows jwt_verify_lib's Jwt::parseFromString check by check, so the status of a
// malformed token is the one Envoy reports.
func parseToken(s string) (*token, Status) {
	// absl::StrSplit with SkipEmpty: empty sections are dropped before counting.
	var parts []string
	for _, p := range strings.Split(s, ".") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) != 3 {
		return nil, StatusJwtBadFormat
	}
	t := &token{headerB64: parts[0], payloadB64: parts[1]}
	var header map[string]any
	raw, ok := b64(parts[0])
	if !ok {
		return nil, StatusJwtHeaderParseErrorBadBase64
	}
	if json.Unmarshal(raw, &header) != nil || header == nil {
		return nil, StatusJwtHeaderParseErrorBadJSON
	}
	if st := getString(header, "alg", &t.alg); st != found {
		return nil, StatusJwtHeaderBadAlg
	}
	if !implementedAlg(t.alg) {
		return nil, StatusJwtHeaderNotImplementedAlg
	}
	if getString(header, "kid", &t.kid) == wrongType {
		return nil, StatusJwtHeaderBadKid
	}
	if raw, ok = b64(parts[1]); !ok {
		return nil, StatusJwtPayloadParseErrorBadBase64
	}
	if json.Unmarshal(raw, &t.payload) != nil || t.payload == nil {
		return nil, StatusJwtPayloadParseErrorBadJSON
	}
	if st := t.parseClaims(); st != StatusOK {
		return nil, st
	}
	if t.signature, ok = b64(parts[2]); !ok {
		return nil, StatusJwtSignatureParseErrorBadBase64
	}
	return t, StatusOK
}

func (t *token) parseClaims() Status {
	p := t.payload
	if getString(p, "iss", &t.iss) == wrongType {
		return StatusJwtPayloadParseErrorIssNotString
	}
	if getString(p, "sub", &t.sub) == wrongType {
		return StatusJwtPayloadParseErrorSubNotString
	}
	ints := []struct {
		name           string
		dst            *uint64
		notInt, badInt Status
	}{
		{"iat", &t.iat, StatusJwtPayloadParseErrorIatNotInteger, StatusJwtPayloadParseErrorIatOutOfRange},
		{"nbf", &t.nbf, StatusJwtPayloadParseErrorNbfNotInteger, StatusJwtPayloadParseErrorNbfOutOfRange},
		{"exp", &t.exp, StatusJwtPayloadParseErrorExpNotInteger, StatusJwtPayloadParseErrorExpOutOfRange},
	}
	for _, c := range ints {
		switch getUint64(p, c.name, c.dst) {
		case wrongType:
			return c.notInt
		case outOfRange:
			return c.badInt
		}
	}
	var jti string
	if getString(p, "jti", &jti) == wrongType {
		return StatusJwtPayloadParseErrorJtiNotString
	}
	switch aud := p["aud"].(type) {
	case nil:
		if _, present := p["aud"]; present {
			return StatusJwtPayloadParseErrorAudNotString
		}
	case string:
		t.audiences = []string{aud}
	case []any:
		for _, a := range aud {
			s, ok := a.(string)
			if !ok {
				return StatusJwtPayloadParseErrorAudNotString
			}
			t.audiences = append(t.audiences, s)
		}
	default:
		return StatusJwtPayloadParseErrorAudNotString
	}
	return StatusOK
}

// b64 decodes base64url with or without padding, as absl::WebSafeBase64Unescape does.
func b64(s string) ([]byte, bool) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	return b, err == nil
}

type lookup int

const (
	found lookup = iota
	missing
	wrongType
	outOfRange
)

// claim finds a possibly nested claim: "a.b" is field b of object a (jwt_verify_lib
// StructUtils::GetValue, also used for claim_to_headers).
func claim(m map[string]any, name string) (any, lookup) {
	keys := strings.Split(name, ".")
	for i, k := range keys {
		v, ok := m[k]
		if !ok {
			return nil, missing
		}
		if i == len(keys)-1 {
			return v, found
		}
		if m, ok = v.(map[string]any); !ok {
			return nil, wrongType
		}
	}
	return nil, missing
}

func getString(m map[string]any, name string, dst *string) lookup {
	v, st := claim(m, name)
	if st != found {
		return st
	}
	s, ok := v.(string)
	if !ok {
		return wrongType
	}
	*dst = s
	return found
}

func getUint64(m map[string]any, name string, dst *uint64) lookup {
	v, st := claim(m, name)
	if st != found {
		return st
	}
	f, ok := v.(float64)
	if !ok {
		return wrongType
	}
	if f < 0 || f >= math.MaxUint64 {
		return outOfRange
	}
	*dst = uint64(f)
	return found
}

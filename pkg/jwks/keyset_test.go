package jwks

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// rsaKey and rsaKey2 are generated once per test binary: RSA generation is slow under -race.
var rsaKey, rsaKey2 = sync.OnceValue(newRSAKey), sync.OnceValue(newRSAKey)

func newRSAKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// privateJWK is the full private serialisation of k, as a careless IdP might serve it.
func privateJWK(t *testing.T, k jose.JSONWebKey) string {
	t.Helper()
	b, err := k.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCanonicalKeySet(t *testing.T) {
	ec := testKey(t, "ec")
	ecPub := privateJWK(t, ec.Public())
	rsaJWK := jose.JSONWebKey{Key: rsaKey(), KeyID: "rsa", Algorithm: "RS256"}
	rsaPub := privateJWK(t, rsaJWK.Public())
	var m map[string]any
	json.Unmarshal([]byte(rsaPub), &m)
	n := m["n"].(string)

	tests := map[string]struct {
		in         string
		wantCount  int
		wantReason string // error reason; "" for success
		wantKids   []string
		notIn      []string // substrings the output must not contain
	}{
		"ec and rsa":             {in: `{"keys":[` + ecPub + `,` + rsaPub + `]}`, wantCount: 2, wantKids: []string{`"kid":"ec"`, `"kid":"rsa"`}},
		"private members strip":  {in: `{"keys":[` + privateJWK(t, ec) + `,` + privateJWK(t, rsaJWK) + `]}`, wantCount: 2, notIn: []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"qi"`}},
		"unknown members gone":   {in: `{"keys":[{"kty":"RSA","n":"` + n + `","e":"AQAB","kid":"x","secret":"s"}],"extra":1}`, wantCount: 1, notIn: []string{"secret", "extra"}},
		"duplicates removed":     {in: `{"keys":[` + ecPub + `,` + ecPub + `]}`, wantCount: 1},
		"oct refused":            {in: `{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"h"},` + ecPub + `]}`, wantCount: 1, notIn: []string{"oct", "c2VjcmV0"}},
		"only oct":               {in: `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, wantReason: reasonNoKeys},
		"unsupported kty":        {in: `{"keys":[{"kty":"XYZ","kid":"u"},` + ecPub + `]}`, wantCount: 1, notIn: []string{`"u"`}},
		"bad rsa e":              {in: `{"keys":[{"kty":"RSA","n":"` + n + `","e":"AA"}]}`, wantReason: reasonNoKeys},
		"rsa missing n":          {in: `{"keys":[{"kty":"RSA","e":"AQAB"}]}`, wantReason: reasonNoKeys},
		"ec off curve":           {in: `{"keys":[{"kty":"EC","crv":"P-256","x":"AQ","y":"AQ"}]}`, wantReason: reasonNoKeys},
		"encryption key":         {in: `{"keys":[{"kty":"RSA","use":"enc","n":"` + n + `","e":"AQAB"}]}`, wantReason: reasonNoKeys},
		"alg does not fit kty":   {in: `{"keys":[{"kty":"RSA","alg":"ES256","n":"` + n + `","e":"AQAB"}]}`, wantReason: reasonNoKeys},
		"alg does not fit curve": {in: `{"keys":[` + strings.Replace(ecPub, `"ES256"`, `"ES384"`, 1) + `]}`, wantReason: reasonNoKeys},
		"x25519 not for sig":     {in: `{"keys":[{"kty":"OKP","crv":"X25519","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}`, wantReason: reasonNoKeys},
		"empty keys":             {in: `{"keys":[]}`, wantReason: reasonNoKeys},
		"no keys member":         {in: `{"kids":[]}`, wantReason: reasonParse},
		"keys not an array":      {in: `{"keys":{}}`, wantReason: reasonParse},
		"garbage":                {in: `<html>oops</html>`, wantReason: reasonParse},
		"a key not an object":    {in: `{"keys":[1,` + ecPub + `]}`, wantCount: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := canonicalKeySet([]byte(tc.in))
			if tc.wantReason != "" {
				if err == nil || reasonOf(err) != tc.wantReason {
					t.Fatalf("err = %v, want reason %s", err, tc.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Count != tc.wantCount {
				t.Errorf("count = %d, want %d (dropped %v)", got.Count, tc.wantCount, got.Dropped)
			}
			for _, s := range tc.wantKids {
				if !strings.Contains(got.JSON, s) {
					t.Errorf("output lacks %s: %s", s, got.JSON)
				}
			}
			for _, s := range tc.notIn {
				if strings.Contains(got.JSON, s) {
					t.Errorf("output contains %s: %s", s, got.JSON)
				}
			}
			if _, err := canonicalKeySet([]byte(got.JSON)); err != nil {
				t.Errorf("output does not parse again: %v", err)
			}
		})
	}
}

// TestCanonicalKeySetStable: the same keys in another order, member order or spacing give
// the same bytes, so a refetch of an unchanged set is not announced as a change.
func TestCanonicalKeySetStable(t *testing.T) {
	a, b := testKey(t, "a"), testKey(t, "b")
	first, err := canonicalKeySet([]byte(jwksDoc(t, a, b)))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string][]map[string]any
	json.Unmarshal([]byte(jwksDoc(t, b, a)), &doc)
	reordered, _ := json.MarshalIndent(doc, "", "   ") // map members come out sorted, not go-jose's order
	second, err := canonicalKeySet(reordered)
	if err != nil {
		t.Fatal(err)
	}
	if first.JSON != second.JSON {
		t.Errorf("not canonical:\n%s\n%s", first.JSON, second.JSON)
	}
	if private, _ := canonicalKeySet([]byte(`{"keys":[` + privateJWK(t, a) + `,` + privateJWK(t, b) + `]}`)); private.JSON != first.JSON || !private.HadPrivate {
		t.Errorf("private form differs from public form or was not flagged:\n%s\n%s", private.JSON, first.JSON)
	}
}

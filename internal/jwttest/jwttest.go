// Package jwttest mints JSON Web Tokens for tests, from keys the tests generate: the JWT
// translation tests and the jwt_authn evaluator tests share it. Test support only.
package jwttest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Signer is a key pair a test mints tokens with.
type Signer struct {
	Alg jose.SignatureAlgorithm
	KID string // empty: tokens carry no kid
	Key any    // private key
	Pub any
}

// New generates a key pair for alg (RS256, PS256, ES256 or EdDSA).
func New(t testing.TB, alg jose.SignatureAlgorithm, kid string) Signer {
	t.Helper()
	s := Signer{Alg: alg, KID: kid}
	var err error
	switch alg {
	case jose.RS256, jose.PS256:
		var k *rsa.PrivateKey
		k, err = rsa.GenerateKey(rand.Reader, 2048)
		s.Key, s.Pub = k, &k.PublicKey
	case jose.ES256:
		var k *ecdsa.PrivateKey
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		s.Key, s.Pub = k, &k.PublicKey
	case jose.EdDSA:
		var pub ed25519.PublicKey
		pub, s.Key, err = ed25519.GenerateKey(rand.Reader)
		s.Pub = pub
	default:
		t.Fatalf("jwttest: unsupported alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Mint signs claims; exp defaults to an hour after now unless claims set it.
func (s Signer) Mint(t testing.TB, claims map[string]any, now time.Time) string {
	t.Helper()
	if _, ok := claims["exp"]; !ok {
		claims["exp"] = now.Add(time.Hour).Unix()
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if s.KID != "" {
		opts = opts.WithHeader("kid", s.KID)
	}
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: s.Alg, Key: s.Key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := sg.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// JWKS returns the public key set of the signers, each with its kid and, if withAlg, its alg.
func JWKS(t testing.TB, withAlg bool, ss ...Signer) string {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, s := range ss {
		k := jose.JSONWebKey{Key: s.Pub, KeyID: s.KID}
		if withAlg {
			k.Algorithm = string(s.Alg)
		}
		set.Keys = append(set.Keys, k)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

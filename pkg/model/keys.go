package model

// KeySet is the JWKS the control plane holds for one key source (a jwksUri, or an issuer
// resolved through OpenID discovery). Translation inlines JSON as local_jwks.
type KeySet struct {
	// Source is the jwksUri, or the issuer when the URI came from discovery.
	Source string
	// JSON is the last good key set, re-serialised with only public members. Empty when no
	// fetch has ever succeeded: translation then inlines a key set that verifies nothing.
	JSON string
}

// JWKSSource is the key a JWT rule's keys are looked up by: its jwksUri, or its issuer when
// the URI is to be discovered. Rules with inline jwks have no source.
func JWKSSource(jwksURI, issuer string) string {
	if jwksURI != "" {
		return jwksURI
	}
	return issuer
}

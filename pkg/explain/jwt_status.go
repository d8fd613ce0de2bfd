package explain

// Status is a google/jwt_verify_lib status code, the outcome of one JWT check in Envoy's
// jwt_authn filter. Only the statuses the filter can reach with local (inline) key sets exist.
type Status int

const (
	StatusOK Status = iota
	StatusJwtMissed
	StatusJwtNotYetValid
	StatusJwtExpired
	StatusJwtBadFormat
	StatusJwtHeaderParseErrorBadBase64
	StatusJwtHeaderParseErrorBadJSON
	StatusJwtHeaderBadAlg
	StatusJwtHeaderNotImplementedAlg
	StatusJwtHeaderBadKid
	StatusJwtPayloadParseErrorBadBase64
	StatusJwtEd25519SignatureWrongLength
	StatusJwtPayloadParseErrorBadJSON
	StatusJwtPayloadParseErrorIssNotString
	StatusJwtPayloadParseErrorSubNotString
	StatusJwtPayloadParseErrorIatNotInteger
	StatusJwtPayloadParseErrorIatOutOfRange
	StatusJwtPayloadParseErrorNbfNotInteger
	StatusJwtPayloadParseErrorNbfOutOfRange
	StatusJwtPayloadParseErrorExpNotInteger
	StatusJwtPayloadParseErrorExpOutOfRange
	StatusJwtPayloadParseErrorJtiNotString
	StatusJwtPayloadParseErrorAudNotString
	StatusJwtSignatureParseErrorBadBase64
	StatusJwtUnknownIssuer
	StatusJwtAudienceNotAllowed
	StatusJwtVerificationFail
	StatusJwksNoValidKeys
	StatusJwksKidAlgMismatch
)

// String is the text jwt_verify_lib's getStatusString returns, which Envoy sends as the body
// of its 401/403 reply (src/status.cc).
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "OK"
	case StatusJwtMissed:
		return "Jwt is missing"
	case StatusJwtNotYetValid:
		return "Jwt not yet valid"
	case StatusJwtExpired:
		return "Jwt is expired"
	case StatusJwtBadFormat:
		return "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"
	case StatusJwtHeaderParseErrorBadBase64:
		return "Jwt header is an invalid Base64url encoded"
	case StatusJwtHeaderParseErrorBadJSON:
		return "Jwt header is an invalid JSON"
	case StatusJwtHeaderBadAlg:
		return "Jwt header [alg] field is required and must be a string"
	case StatusJwtHeaderNotImplementedAlg:
		return "Jwt header [alg] is not supported"
	case StatusJwtHeaderBadKid:
		return "Jwt header [kid] field is not a string"
	case StatusJwtPayloadParseErrorBadBase64:
		return "Jwt payload is an invalid Base64url encoded"
	case StatusJwtEd25519SignatureWrongLength:
		return "Jwt ED25519 signature is wrong length"
	case StatusJwtPayloadParseErrorBadJSON:
		return "Jwt payload is an invalid JSON"
	case StatusJwtPayloadParseErrorIssNotString:
		return "Jwt payload [iss] field is not a string"
	case StatusJwtPayloadParseErrorSubNotString:
		return "Jwt payload [sub] field is not a string"
	case StatusJwtPayloadParseErrorIatNotInteger:
		return "Jwt payload [iat] field is not an integer"
	case StatusJwtPayloadParseErrorIatOutOfRange:
		return "Jwt payload [iat] field is not a positive 64 bit integer"
	case StatusJwtPayloadParseErrorNbfNotInteger:
		return "Jwt payload [nbf] field is not an integer"
	case StatusJwtPayloadParseErrorNbfOutOfRange:
		return "Jwt payload [nbf] field is not a positive 64 bit integer"
	case StatusJwtPayloadParseErrorExpNotInteger:
		return "Jwt payload [exp] field is not an integer"
	case StatusJwtPayloadParseErrorExpOutOfRange:
		return "Jwt payload [exp] field is not a positive 64 bit integer"
	case StatusJwtPayloadParseErrorJtiNotString:
		return "Jwt payload [jti] field is not a string"
	case StatusJwtPayloadParseErrorAudNotString:
		return "Jwt payload [aud] field is not a string or string list"
	case StatusJwtSignatureParseErrorBadBase64:
		return "Jwt signature is an invalid Base64url encoded"
	case StatusJwtUnknownIssuer:
		return "Jwt issuer is not configured"
	case StatusJwtAudienceNotAllowed:
		return "Audiences in Jwt are not allowed"
	case StatusJwtVerificationFail:
		return "Jwt verification fails"
	case StatusJwksNoValidKeys:
		return "Jwks doesn't have any valid public key"
	case StatusJwksKidAlgMismatch:
		return "Jwks doesn't have key to match kid or alg from Jwt"
	}
	return ""
}

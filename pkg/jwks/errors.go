package jwks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
)

// Failure reasons: the bounded value set of the reason label of
// controlplane_jwks_fetch_errors_total, and the first word of SourceStatus.LastError.
const (
	reasonInvalidURI = "invalid_uri" // not an absolute http(s) URL
	reasonBlocked    = "blocked"     // AllowedHosts or DenyPrivateAddresses refused it
	reasonTimeout    = "timeout"     // the source's timeout expired
	reasonTLS        = "tls"         // certificate not trusted or handshake failed
	reasonConnect    = "connect"     // DNS, connection refused or reset, other transport errors
	reasonRedirect   = "redirect"    // too many redirects, or a redirect to a non-http(s) or downgraded URL
	reasonStatus     = "http_status" // a status other than 200
	reasonTooLarge   = "too_large"   // body over MaxBodyBytes
	reasonParse      = "parse"       // not JSON with a "keys" array
	reasonNoKeys     = "no_usable_keys"
	reasonDiscovery  = "discovery" // OpenID configuration without a usable jwks_uri
)

// fetchError is a failed fetch with its metric reason and whether retrying within the same
// round can help.
type fetchError struct {
	reason string
	retry  bool
	err    error
}

func (e *fetchError) Error() string { return e.reason + ": " + e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

// errBlocked marks a request refused by the SSRF guard, wherever in the client it surfaced.
var errBlocked = errors.New("refused by the jwks host guard")

// errRedirect marks a redirect refused by the redirect policy.
var errRedirect = errors.New("redirect refused")

// reasonOf returns the metric reason for any fetch error.
func reasonOf(err error) string {
	if fe, ok := errors.AsType[*fetchError](err); ok {
		return fe.reason
	}
	return reasonConnect
}

// transportError classifies an error from http.Client.Do or from reading a body. Timeouts and
// connection errors may be transient, so they are retried; trust and policy failures are not.
func transportError(err error) *fetchError {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	var netErr net.Error
	switch {
	case errors.Is(err, errBlocked):
		return &fetchError{reason: reasonBlocked, err: err}
	case errors.Is(err, errRedirect):
		return &fetchError{reason: reasonRedirect, err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return &fetchError{reason: reasonTimeout, retry: true, err: err}
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &certInvalid),
		errors.As(err, &verify), errors.As(err, &alert):
		return &fetchError{reason: reasonTLS, err: err}
	default:
		return &fetchError{reason: reasonConnect, retry: true, err: err}
	}
}

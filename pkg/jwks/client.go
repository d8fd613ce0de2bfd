package jwks

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// newClient returns the HTTP client fetches use: opts.Client with the manager's redirect
// policy, or one built here with the CA bundle, the dial-time address guard and bounded
// connection set-up times. Per-request time limits come from each source's timeout.
func newClient(opts Options) (*http.Client, error) {
	if opts.Client != nil {
		if opts.DenyPrivateAddresses {
			return nil, errors.New("jwks: DenyPrivateAddresses cannot guard a caller-supplied Client; leave Options.Client nil")
		}
		c := *opts.Client
		c.CheckRedirect = redirectPolicy(opts)
		return &c, nil
	}
	roots, err := rootPool(opts.CABundle)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	proxy := http.ProxyFromEnvironment
	if opts.DenyPrivateAddresses {
		dialer.Control = denyPrivateControl
		proxy = nil
	}
	tr := &http.Transport{
		Proxy:               proxy,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        100,
		// Up to every concurrent fetch may target one IdP host.
		MaxIdleConnsPerHost: opts.MaxConcurrentFetches,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{Transport: tr, CheckRedirect: redirectPolicy(opts)}, nil
}

// rootPool is the system roots plus the PEM bundle. The bundle adds to, rather than
// replaces, the system roots because key sets usually mix public IdPs with a private one.
func rootPool(bundle []byte) (*x509.CertPool, error) {
	if len(bundle) == 0 {
		return nil, nil // nil RootCAs: crypto/tls uses the system roots
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(bundle) {
		return nil, errors.New("jwks: CA bundle holds no PEM certificate")
	}
	return pool, nil
}

// redirectPolicy bounds the number of redirects and applies the scheme and host checks to
// every hop. A redirect from https to http is refused: it would discard the TLS verification
// the key set's integrity rests on.
func redirectPolicy(opts Options) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > opts.MaxRedirects {
			return fmt.Errorf("more than %d redirects: %w", opts.MaxRedirects, errRedirect)
		}
		if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("redirect from https to %q: %w", req.URL.Redacted(), errRedirect)
		}
		if err := checkURL(opts.AllowedHosts, req.URL); err != nil {
			return fmt.Errorf("redirect to %q: %w", req.URL.Redacted(), errors.Join(err, errRedirect))
		}
		return nil
	}
}

package ca

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// ServerTLSOptions configures the ADS server's TLS. Zero values are the documented defaults.
type ServerTLSOptions struct {
	// DNSNames and IPAddresses are the SANs of the serving certificate; at least one is needed
	// (e.g. "controlplane.istio-system.svc").
	DNSNames    []string
	IPAddresses []net.IP
	// RequireClientCert refuses clients without a certificate verified against the CA
	// (tls.RequireAndVerifyClientCert). Default: tls.VerifyClientCertIfGiven, so proxies
	// without one still get configuration but never a private key.
	RequireClientCert bool
	// ExtraClientCAs is a PEM bundle trusted for client certificates besides Root(), e.g. the
	// CA of bootstrap certificates issued elsewhere.
	ExtraClientCAs []byte
	// TTL of the serving certificate (default Options.WorkloadTTL); it is re-issued at
	// Options.RotateAt of its lifetime, on the first handshake after that.
	TTL time.Duration
}

// ServerTLS is the TLS configuration of the ADS gRPC server (credentials.NewTLS): a serving
// certificate issued by this CA and kept fresh, and client certificates verified against the
// CA's root, so that IdentityFromGRPC can read the identity a proxy proved.
func (c *CA) ServerTLS(opts ServerTLSOptions) (*tls.Config, error) {
	if len(opts.DNSNames) == 0 && len(opts.IPAddresses) == 0 {
		return nil, errors.New("ca: ServerTLS needs DNSNames or IPAddresses")
	}
	if opts.TTL <= 0 {
		opts.TTL = c.opts.WorkloadTTL
	}
	pool := x509.NewCertPool()
	for _, r := range c.signer.roots {
		pool.AddCert(r)
	}
	if len(opts.ExtraClientCAs) > 0 && !pool.AppendCertsFromPEM(opts.ExtraClientCAs) {
		return nil, errors.New("ca: ServerTLS ExtraClientCAs: no PEM certificate")
	}
	s := &servingCert{ca: c, opts: opts}
	if _, err := s.get(); err != nil {
		return nil, err
	}
	auth := tls.VerifyClientCertIfGiven
	if opts.RequireClientCert {
		auth = tls.RequireAndVerifyClientCert
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		ClientAuth: auth,
		ClientCAs:  pool,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.get()
		},
	}, nil
}

// servingCert re-issues the serving certificate lazily once it is due.
type servingCert struct {
	ca   *CA
	opts ServerTLSOptions

	mu        sync.Mutex
	cert      *tls.Certificate
	refreshAt time.Time
	notAfter  time.Time
}

func (s *servingCert) get() (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.ca.opts.Now()
	if s.cert != nil && now.Before(s.refreshAt) {
		return s.cert, nil
	}
	fresh, err := s.issue()
	if err != nil {
		if s.cert != nil && now.Before(s.notAfter) {
			// The current certificate is still valid: keep serving it and retry next handshake.
			s.ca.log.Error("cannot re-issue serving certificate", "err", err)
			return s.cert, nil
		}
		return nil, err
	}
	return fresh, nil
}

// issue signs a new serving certificate; s.mu is held.
func (s *servingCert) issue() (*tls.Certificate, error) {
	cert, err := s.ca.issueServing(s.opts.DNSNames, s.opts.IPAddresses, s.opts.TTL)
	if err != nil {
		return nil, err
	}
	pair, err := cert.TLSCertificate()
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	s.cert, s.refreshAt, s.notAfter = &pair, cert.RefreshAt, cert.NotAfter
	return s.cert, nil
}

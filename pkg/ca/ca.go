package ca

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// CA signs workload, serving and bootstrap certificates and caches workload certificates per
// identity. It is safe for concurrent use.
type CA struct {
	opts    Options
	signer  *signer
	log     *slog.Logger
	metrics *metrics

	mu sync.Mutex
	// certs is the workload certificate of each identity in use (see cache.go).
	certs map[Identity]*Certificate
	// rotated holds identities re-issued since Run last reported.
	rotated map[Identity]struct{}
	wake    chan struct{}
}

// New loads or creates the signing certificate described by opts.
func New(ctx context.Context, opts Options) (*CA, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	var s *signer
	if o.Store != nil {
		s, err = rootFromStore(ctx, o)
	} else {
		s, err = signerFromFiles(o)
	}
	if err != nil {
		return nil, err
	}
	c := &CA{
		opts:    o,
		signer:  s,
		log:     o.Log.With("component", "ca"),
		certs:   map[Identity]*Certificate{},
		rotated: map[Identity]struct{}{},
		wake:    make(chan struct{}, 1),
	}
	if c.metrics, err = newMetrics(o.Registerer, c.expiries); err != nil {
		return nil, err
	}
	left := s.cert.NotAfter.Sub(o.Now())
	if left < 2*o.WorkloadTTL {
		// Workload certificates are cut short at the signer's NotAfter, so from here on they
		// rotate ever faster until issuance fails.
		c.log.WarnContext(ctx, "CA signing certificate expires soon", "expires", s.cert.NotAfter.Format(time.RFC3339))
	}
	c.log.InfoContext(ctx, "CA ready", "expires", s.cert.NotAfter.Format(time.RFC3339), "intermediate", !isSelfSigned(s.cert))
	return c, nil
}

// Root is the PEM trust bundle: the self-signed root(s) above the signing certificate. Peers
// validate each other's workload certificates against it ("ROOTCA").
func (c *CA) Root() []byte { return append([]byte(nil), c.signer.rootPEM...) }

// TrustDomain is the trust domain of the identities this CA issues.
func (c *CA) TrustDomain() string { return c.opts.TrustDomain }

// expiries reports, for the metrics, the earliest NotAfter among the roots and the signing
// certificate, and the earliest NotAfter among cached workload certificates (zero when none).
func (c *CA) expiries() (root, workload time.Time) {
	root = c.signer.cert.NotAfter
	for _, r := range c.signer.roots {
		if r.NotAfter.Before(root) {
			root = r.NotAfter
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cert := range c.certs {
		if workload.IsZero() || cert.NotAfter.Before(workload) {
			workload = cert.NotAfter
		}
	}
	return root, workload
}

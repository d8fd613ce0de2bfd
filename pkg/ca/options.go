package ca

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// Options configures a CA. Every zero value stands for the documented default. Exactly one
// source of the signing certificate is given: Dir, Store, or CertFile+KeyFile.
type Options struct {
	// Dir persists a generated root as ca-cert.pem and ca-key.pem (0600): created on first
	// start, reused after. Shorthand for Store: &DirStore{Dir: Dir}.
	Dir string
	// Store persists a generated root elsewhere (the Kubernetes issue's Secret store).
	Store RootStore
	// CertFile and KeyFile are a root or intermediate CA certificate and its key (PEM; PKCS#8,
	// SEC 1 or PKCS#1). They are read once by New; restart to change them.
	CertFile, KeyFile string
	// ChainFile is the chain from CertFile's issuer up to and including the self-signed root
	// (PEM). Required when CertFile is an intermediate; its root(s) form the trust bundle.
	ChainFile string
	// TrustDomain of issued identities (default model.DefaultTrustDomain, "cluster.local").
	TrustDomain string
	// WorkloadTTL is the lifetime of workload certificates (default 24h, Istio's
	// DEFAULT_WORKLOAD_CERT_TTL). Never beyond the signing certificate's NotAfter.
	WorkloadTTL time.Duration
	// RotateAt is the fraction of a certificate's lifetime after which it is re-issued
	// (default 0.5: at half life). Must be in (0, 1).
	RotateAt float64
	// RootTTL is the lifetime of a generated root (default 10 years, as Istio's self-signed root).
	RootTTL time.Duration
	// Now is the clock (default time.Now); tests pass a fake one.
	Now func() time.Time
	// Log receives lifecycle logs (default: discard). Keys are never logged.
	Log *slog.Logger
	// Registerer receives the metrics of metrics.go; nil: not registered.
	Registerer prometheus.Registerer
}

const (
	defaultWorkloadTTL = 24 * time.Hour
	defaultRotateAt    = 0.5
	defaultRootTTL     = 10 * 365 * 24 * time.Hour
	// clockSkew backdates NotBefore so a proxy whose clock is a little behind ours accepts a
	// certificate issued this instant.
	clockSkew = 5 * time.Minute
)

func (o Options) withDefaults() (Options, error) {
	if o.TrustDomain == "" {
		o.TrustDomain = model.DefaultTrustDomain
	}
	if o.WorkloadTTL == 0 {
		o.WorkloadTTL = defaultWorkloadTTL
	}
	if o.RotateAt == 0 {
		o.RotateAt = defaultRotateAt
	}
	if o.RootTTL == 0 {
		o.RootTTL = defaultRootTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Store != nil && o.Dir != "" {
		return o, errors.New("ca: give either Dir or Store, not both")
	}
	if o.Dir != "" {
		o.Store = &DirStore{Dir: o.Dir}
	}
	return o, o.validate()
}

func (o Options) validate() error {
	var errs []error
	if err := checkTrustDomain(o.TrustDomain); err != nil {
		errs = append(errs, fmt.Errorf("ca: TrustDomain: %w", err))
	}
	if o.WorkloadTTL < 0 || o.RootTTL < 0 {
		errs = append(errs, errors.New("ca: WorkloadTTL and RootTTL must be positive"))
	}
	if o.RotateAt <= 0 || o.RotateAt >= 1 {
		errs = append(errs, fmt.Errorf("ca: RotateAt %v: must be in (0, 1)", o.RotateAt))
	}
	files := o.CertFile != "" || o.KeyFile != "" || o.ChainFile != ""
	switch {
	case files && o.Store != nil:
		errs = append(errs, errors.New("ca: give either Dir/Store or CertFile/KeyFile, not both"))
	case files && (o.CertFile == "" || o.KeyFile == ""):
		errs = append(errs, errors.New("ca: CertFile and KeyFile go together"))
	case !files && o.Store == nil:
		errs = append(errs, errors.New("ca: one of Dir, Store or CertFile+KeyFile is required"))
	}
	return errors.Join(errs...)
}

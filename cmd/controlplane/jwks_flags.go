package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/plainenvoy/controlplane/pkg/jwks"
)

// jwksFlags configure how the control plane fetches JWKS for RequestAuthentication rules.
type jwksFlags struct {
	refresh      time.Duration
	caBundle     string
	allowedHosts []string
	denyPrivate  bool
}

func (f *jwksFlags) register(fs *pflag.FlagSet) {
	fs.DurationVar(&f.refresh, "jwks-refresh", 20*time.Minute,
		"how often key sets are refetched (Istio PILOT_JWT_PUB_KEY_REFRESH_INTERVAL); Cache-Control max-age may shorten it down to 5m")
	fs.StringVar(&f.caBundle, "jwks-ca-bundle", "",
		"PEM file of extra CAs trusted for JWKS and OpenID discovery over HTTPS (added to the system roots)")
	fs.StringSliceVar(&f.allowedHosts, "jwks-allowed-host", nil,
		"only fetch JWKS from these hosts (repeatable); default any host. Guards against policy authors making the control plane fetch arbitrary URLs")
	fs.BoolVar(&f.denyPrivate, "jwks-deny-private-addresses", false,
		"refuse JWKS fetches to loopback, private, link-local (cloud metadata) and other non-public addresses, checked on the resolved IP (off by default, as in Istio)")
}

func (f *jwksFlags) manager(log *slog.Logger, reg prometheus.Registerer) (*jwks.Manager, error) {
	opts := jwks.Options{
		Refresh: f.refresh, AllowedHosts: f.allowedHosts, DenyPrivateAddresses: f.denyPrivate,
		Log: log, Registerer: reg,
	}
	if f.caBundle != "" {
		pem, err := os.ReadFile(f.caBundle)
		if err != nil {
			return nil, fmt.Errorf("--jwks-ca-bundle: %w", err)
		}
		opts.CABundle = pem
	}
	return jwks.NewManager(opts)
}

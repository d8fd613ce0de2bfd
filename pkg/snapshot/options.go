package snapshot

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// TranslateFunc builds one group's configuration; translate.Proxy in production.
type TranslateFunc func(translate.Inputs) (translate.Resources, []model.Problem)

// Options configure a Server. Zero values are the documented defaults.
type Options struct {
	Log        *slog.Logger          // default: discard
	Registerer prometheus.Registerer // metrics are not registered when nil
	// Translate builds a group's resources. Default translate.Proxy; tests pass hand-made
	// resources.
	Translate TranslateFunc
	// ExtAuthz is handed to every translation (the CUSTOM providers of the control plane's config).
	ExtAuthz []translate.ExtAuthzProvider
	// Debounce is the least time between two rebuilds: a change after a quiet spell is built at
	// once, and the changes that follow within Debounce are built together when it has passed,
	// so a burst gives at most two rebuilds per affected group. Default 5ms.
	Debounce time.Duration
	// Identity, when set, proves proxy identities on their streams and serves workload
	// certificates over SDS ("default", "ROOTCA") to the proxies that proved them.
	Identity IdentitySource
	// IdleTimeout is how long a group with no connected proxy stays in memory. Default 5m.
	IdleTimeout time.Duration
	// CollectWhenIdle runs the garbage collector once a push has finished when the heap is past
	// half its way to the next collection, so that the collection does not run during the next
	// push (idlegc.go).
	CollectWhenIdle bool
}

func (o Options) withDefaults() Options {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Translate == nil {
		o.Translate = translate.Proxy
	}
	if o.Debounce <= 0 {
		o.Debounce = 5 * time.Millisecond
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 5 * time.Minute
	}
	return o
}

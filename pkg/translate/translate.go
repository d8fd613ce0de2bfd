package translate

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// Inputs is everything one proxy group's configuration depends on.
type Inputs struct {
	Store *model.Store
	Proxy model.Proxy
	// Keys holds the fetched key sets by model.JWKSSource; a source missing here (or with empty
	// JSON) has never been fetched and gets a key set that verifies nothing.
	Keys map[string]model.KeySet
	// Now is the time credentials are checked against (expired certificates are warned about);
	// the zero time skips that check. It only ever changes problems, never resources, so
	// versions stay a function of the configuration.
	Now time.Time
	// ExtAuthz lists the CUSTOM authorization providers from the control plane's own config.
	ExtAuthz []ExtAuthzProvider
}

// ExtAuthzProvider is a CUSTOM action provider, with MeshConfig extensionProviders' field
// names so a provider block can be copied from an Istio MeshConfig (SEMANTICS.md §4.8). Exactly
// one of EnvoyExtAuthzHTTP and EnvoyExtAuthzGRPC is set.
type ExtAuthzProvider struct {
	Name              string                `json:"name"`
	EnvoyExtAuthzHTTP *ExtAuthzHTTPProvider `json:"envoyExtAuthzHttp,omitempty"`
	EnvoyExtAuthzGRPC *ExtAuthzGRPCProvider `json:"envoyExtAuthzGrpc,omitempty"`
}

// Resources is one proxy group's Envoy configuration, each list sorted by resource name.
type Resources struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
	Secrets   []*tlsv3.Secret
	// KeySources lists the JWKS sources (model.JWKSSource) this configuration inlines, sorted,
	// so the serving layer knows which groups to rebuild when those keys change.
	KeySources []string
	// UnansweredSecrets are the credential SDS names the listeners and clusters reference but
	// that are deliberately not served (a missing or bad Secret, an "invalid://" name), sorted:
	// their chains fail closed. The serving layer's reference check accepts exactly these.
	UnansweredSecrets []string
}

package explain

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// Config is the Envoy configuration of one proxy, as served over xDS or read from a config
// dump: Evaluate needs nothing else.
type Config struct {
	Listeners []*listenerv3.Listener
	// Routes are the RDS route configurations, looked up by an HCM's route_config_name.
	Routes []*routev3.RouteConfiguration
	// Clusters, when given, let a route to an unknown cluster answer 503 as Envoy would; when
	// empty, clusters are not checked.
	Clusters []*clusterv3.Cluster
	// Origins, when set, maps a deciding authorization policy back to the object it came from.
	Origins OriginFunc
}

// OriginFunc returns where an Istio object is defined ("policy.yaml:12"), "" if unknown.
type OriginFunc func(kind, namespace, name string) string

// ExtAuthzAnswer is what the external authorization service is assumed to answer, since
// explain never calls it.
type ExtAuthzAnswer int

const (
	// ExtAuthzDeny: the service denies (Envoy answers 403).
	ExtAuthzDeny ExtAuthzAnswer = iota
	// ExtAuthzAllow: the service allows and the request continues.
	ExtAuthzAllow
)

// Input is one request (or, on a TCP chain, one connection) as it reaches the proxy.
type Input struct {
	// Port is the destination port: the gateway listener's port, the workload port a
	// transparent sidecar sees as original destination, or an explicit sidecar's listen port.
	Port          uint32
	DestinationIP string
	SourceIP      string
	// TLS: the client starts a TLS handshake, offering SNI and ALPN. PeerPrincipal is the URI
	// SAN of the client certificate it presents (a mesh peer's SPIFFE ID), "" for none.
	TLS           bool
	SNI           string
	ALPN          []string
	PeerPrincipal string

	// HTTP request; Path may carry a query string.
	Method  string
	Host    string
	Path    string
	Headers map[string][]string
	// Claims, when set, stand for a JWT that jwt_authn is taken to have verified: they become
	// its payload metadata without any token or signature check.
	Claims map[string]any

	ExtAuthz ExtAuthzAnswer
	// Now is when tokens are verified; the zero time means time.Now.
	Now time.Time
}

func (in Input) now() time.Time {
	if in.Now.IsZero() {
		return time.Now()
	}
	return in.Now
}

package translate

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// hcmOptions describes one HTTP connection manager.
type hcmOptions struct {
	statPrefix string
	// Exactly one of rdsName (route configuration over ADS) and routes (inline) is set.
	rdsName string
	routes  *routev3.RouteConfiguration
	filters []*hcmv3.HttpFilter
	// edge is true where the proxy is the first hop (gateways): the client address is the
	// connection's peer and x-forwarded-for is appended, so remote.ip and ipBlocks are right.
	edge bool
}

// httpConnectionManager builds envoy.filters.network.http_connection_manager. Paths are
// normalised (RFC 3986) before routing and authorization, as Istio's default
// (BASE normalisation) does, so "/a/../admin" cannot slip past a path rule.
func httpConnectionManager(o hcmOptions) *listenerv3.Filter {
	h := &hcmv3.HttpConnectionManager{
		StatPrefix:                   o.statPrefix,
		CodecType:                    hcmv3.HttpConnectionManager_AUTO,
		HttpFilters:                  o.filters,
		NormalizePath:                wrapperspb.Bool(true),
		UseRemoteAddress:             wrapperspb.Bool(o.edge),
		PathWithEscapedSlashesAction: hcmv3.HttpConnectionManager_KEEP_UNCHANGED,
	}
	if o.routes != nil {
		h.RouteSpecifier = &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: o.routes}
	} else {
		h.RouteSpecifier = &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			RouteConfigName: o.rdsName, ConfigSource: adsConfigSource(),
		}}
	}
	return &listenerv3.Filter{
		Name:       "envoy.filters.network.http_connection_manager",
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(h)},
	}
}

func tcpProxy(statPrefix, cluster string) *listenerv3.Filter {
	return &listenerv3.Filter{
		Name: "envoy.filters.network.tcp_proxy",
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(&tcpproxyv3.TcpProxy{
			StatPrefix:       statPrefix,
			ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: cluster},
		})},
	}
}

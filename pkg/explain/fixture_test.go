package explain

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rbacnetworkv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func anyID() *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_Any{Any: true}}
}

func policy(perm *rbacv3.Permission, id *rbacv3.Principal) *rbacv3.Policy {
	return &rbacv3.Policy{Permissions: []*rbacv3.Permission{perm}, Principals: []*rbacv3.Principal{id}}
}

func httpFilter(t *testing.T, name string, m proto.Message) *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{Name: name, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAnyTest(t, m)}}
}

func netFilter(t *testing.T, name string, m proto.Message) *listenerv3.Filter {
	return &listenerv3.Filter{Name: name, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAnyTest(t, m)}}
}

func listenerOn(name string, port uint32, chains ...*listenerv3.FilterChain) *listenerv3.Listener {
	return &listenerv3.Listener{Name: name, FilterChains: chains, Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
		SocketAddress: &corev3.SocketAddress{Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}}
}

// testGateway is a gateway configuration shaped like the translator's output.
func testGateway(t *testing.T) Config {
	t.Helper()
	custom := &rbachttpv3.RBAC{ShadowRulesStatPrefix: "istio_ext_authz_", ShadowRules: &rbacv3.RBAC{Action: rbacv3.RBAC_DENY,
		Policies: map[string]*rbacv3.Policy{"istio-ext-authz-opa-ns[foo]-policy[ext]-rule[0]": policy(pathPrefix("/ext"), anyID())}}}
	extAuthz := &extauthzhttpv3.ExtAuthz{FilterEnabledMetadata: &matcherv3.MetadataMatcher{
		Filter: "envoy.filters.http.rbac",
		Path:   []*matcherv3.MetadataMatcher_PathSegment{{Segment: &matcherv3.MetadataMatcher_PathSegment_Key{Key: "istio_ext_authz_shadow_effective_policy_id"}}},
		Value: &matcherv3.ValueMatcher{MatchPattern: &matcherv3.ValueMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "istio-ext-authz-opa-"}}}},
	}}
	deny := &rbachttpv3.RBAC{Rules: &rbacv3.RBAC{Action: rbacv3.RBAC_DENY,
		Policies: map[string]*rbacv3.Policy{"ns[foo]-policy[no-delete]-rule[0]": policy(methodIs("DELETE"), anyID())}}}
	allow := &rbachttpv3.RBAC{
		Rules: &rbacv3.RBAC{Action: rbacv3.RBAC_ALLOW,
			Policies: map[string]*rbacv3.Policy{"ns[foo]-policy[users]-rule[0]": policy(&rbacv3.Permission{Rule: &rbacv3.Permission_Any{Any: true}}, claimIs("sub", "alice"))}},
		ShadowRulesStatPrefix: "istio_dry_run_allow_",
		ShadowRules: &rbacv3.RBAC{Action: rbacv3.RBAC_DENY,
			Policies: map[string]*rbacv3.Policy{"ns[foo]-policy[dry-put]-rule[0]": policy(methodIs("PUT"), anyID())}},
	}
	jwt := &jwtauthnv3.JwtAuthentication{Providers: map[string]*jwtauthnv3.JwtProvider{"idp": {PayloadInMetadata: "payload",
		JwksSourceSpecifier: &jwtauthnv3.JwtProvider_LocalJwks{LocalJwks: &corev3.DataSource{
			Specifier: &corev3.DataSource_InlineString{InlineString: `{"keys":[]}`}}}}}}
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: "gw", NormalizePath: wrapperspb.Bool(true), UseRemoteAddress: wrapperspb.Bool(true),
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "http.8080"}},
		HttpFilters: []*hcmv3.HttpFilter{
			httpFilter(t, "envoy.filters.http.rbac", custom), httpFilter(t, "envoy.filters.http.ext_authz", extAuthz),
			httpFilter(t, "envoy.filters.http.jwt_authn", jwt),
			httpFilter(t, "envoy.filters.http.rbac", deny), httpFilter(t, "envoy.filters.http.rbac", allow),
			httpFilter(t, "envoy.filters.http.router", &routerv3.Router{}),
		},
	}
	return Config{
		Listeners: []*listenerv3.Listener{listenerOn("0.0.0.0_8080", 8080, &listenerv3.FilterChain{
			Filters: []*listenerv3.Filter{netFilter(t, "envoy.filters.network.http_connection_manager", hcm)}})},
		Routes:   []*routev3.RouteConfiguration{testRoutes()},
		Clusters: testClusters(),
	}
}

func testRoutes() *routev3.RouteConfiguration {
	route := func(name, prefix string, a func(*routev3.Route)) *routev3.Route {
		r := &routev3.Route{Name: name, Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}}}
		a(r)
		return r
	}
	toCluster := func(c string) func(*routev3.Route) {
		return func(r *routev3.Route) {
			r.Action = &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: c}}}
		}
	}
	return &routev3.RouteConfiguration{Name: "http.8080", VirtualHosts: []*routev3.VirtualHost{{
		Name: "app", Domains: []string{"app.example.com", "app.example.com:*"},
		Routes: []*routev3.Route{
			route("down", "/down", func(r *routev3.Route) {
				r.Action = &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 503,
					Body: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "upstream down"}}}}
			}),
			route("old", "/old", func(r *routev3.Route) {
				r.Action = &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{PathRewriteSpecifier: &routev3.RedirectAction_PathRedirect{PathRedirect: "/new"}}}
			}),
			route("gone", "/gone", toCluster("missing")),
			route("default", "/", toCluster("app")),
		},
	}}}
}

// testSidecarTCP is an inbound mTLS TCP chain with network RBAC before tcp_proxy.
func testSidecarTCP(t *testing.T) Config {
	t.Helper()
	tlsCtx := &tlsv3.DownstreamTlsContext{RequireClientCertificate: wrapperspb.Bool(true), CommonTlsContext: &tlsv3.CommonTlsContext{
		ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{SanType: tlsv3.SubjectAltNameMatcher_URI,
				Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "spiffe://cluster.local/"}}}}}}}}
	peer := &rbacv3.Principal{Identifier: &rbacv3.Principal_Authenticated_{Authenticated: &rbacv3.Principal_Authenticated{
		PrincipalName: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "spiffe://cluster.local/ns/foo/sa/sleep"}}}}}
	allow := &rbacnetworkv3.RBAC{StatPrefix: "tcp.", Rules: &rbacv3.RBAC{Action: rbacv3.RBAC_ALLOW,
		Policies: map[string]*rbacv3.Policy{"ns[foo]-policy[sleep-only]-rule[0]": policy(&rbacv3.Permission{Rule: &rbacv3.Permission_Any{Any: true}}, peer)}}}
	chain := &listenerv3.FilterChain{
		Name:             "inbound|9000||mtls",
		FilterChainMatch: &listenerv3.FilterChainMatch{DestinationPort: wrapperspb.UInt32(9000), TransportProtocol: "tls"},
		TransportSocket: &corev3.TransportSocket{Name: "envoy.transport_sockets.tls",
			ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAnyTest(t, tlsCtx)}},
		Filters: []*listenerv3.Filter{
			netFilter(t, "envoy.filters.network.rbac", allow),
			netFilter(t, "envoy.filters.network.tcp_proxy", &tcpproxyv3.TcpProxy{StatPrefix: "in",
				ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: "inbound|9000||"}}),
		},
	}
	l := listenerOn(virtualInbound, 15006, chain)
	l.ListenerFilters = []*listenerv3.ListenerFilter{{Name: "envoy.filters.listener.tls_inspector",
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: mustAnyTest(t, tlsInspectorConfig())}}}
	return Config{Listeners: []*listenerv3.Listener{l}}
}

func TestEvaluateTCP(t *testing.T) {
	t.Parallel()
	cfg := testSidecarTCP(t)
	tests := map[string]struct {
		in         Input
		result, by string
	}{
		"mesh peer allowed":     {in: Input{Port: 9000, TLS: true, PeerPrincipal: "spiffe://cluster.local/ns/foo/sa/sleep"}, result: "allowed"},
		"other peer closed":     {in: Input{Port: 9000, TLS: true, PeerPrincipal: "spiffe://cluster.local/ns/bar/sa/sleep"}, result: "connection closed", by: "envoy.filters.network.rbac: no ALLOW policy matched"},
		"foreign SAN fails TLS": {in: Input{Port: 9000, TLS: true, PeerPrincipal: "spiffe://other.domain/ns/foo/sa/sleep"}, result: "connection closed", by: "tls: client certificate SAN spiffe://other.domain/ns/foo/sa/sleep matches none of the chain's subject alt name matchers"},
		"no client certificate": {in: Input{Port: 9000, TLS: true}, result: "connection closed", by: "tls: the chain requires a client certificate and the client presented none"},
		"plaintext: no chain":   {in: Input{Port: 9000}, result: "connection closed", by: "filter_chain_match: no filter chain matches on transport_protocol"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, err := Evaluate(cfg, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if out.Result() != tc.result || out.By() != tc.by {
				t.Errorf("got %q by %q, want %q by %q\ntrace: %+v", out.Result(), out.By(), tc.result, tc.by, out.Trace)
			}
		})
	}
}

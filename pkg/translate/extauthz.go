package translate

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extauthzhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	extauthznetworkv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/ext_authz/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// ExtAuthzHTTPProvider is MeshConfig's envoyExtAuthzHttp: an HTTP authorization service.
type ExtAuthzHTTPProvider struct {
	// Service is "[<namespace>/]<host>"; the cluster is outbound|<port>||<host>.
	Service string `json:"service"`
	Port    uint32 `json:"port"`
	// Timeout is a Go duration ("1.5s"); empty means 600s, as Istio.
	Timeout    string `json:"timeout,omitempty"`
	PathPrefix string `json:"pathPrefix,omitempty"`
	// FailOpen lets requests through when the service cannot be reached.
	FailOpen bool `json:"failOpen,omitempty"`
	// StatusOnError is the HTTP status when the service cannot be reached; empty means 403.
	StatusOnError                   string            `json:"statusOnError,omitempty"`
	IncludeRequestHeadersInCheck    []string          `json:"includeRequestHeadersInCheck,omitempty"`
	IncludeAdditionalHeadersInCheck map[string]string `json:"includeAdditionalHeadersInCheck,omitempty"`
	IncludeRequestBodyInCheck       *ExtAuthzBody     `json:"includeRequestBodyInCheck,omitempty"`
	HeadersToUpstreamOnAllow        []string          `json:"headersToUpstreamOnAllow,omitempty"`
	HeadersToDownstreamOnDeny       []string          `json:"headersToDownstreamOnDeny,omitempty"`
	HeadersToDownstreamOnAllow      []string          `json:"headersToDownstreamOnAllow,omitempty"`
}

// ExtAuthzGRPCProvider is MeshConfig's envoyExtAuthzGrpc: an envoy.service.auth.v3 service.
type ExtAuthzGRPCProvider struct {
	Service                   string        `json:"service"`
	Port                      uint32        `json:"port"`
	Timeout                   string        `json:"timeout,omitempty"`
	FailOpen                  bool          `json:"failOpen,omitempty"`
	StatusOnError             string        `json:"statusOnError,omitempty"`
	IncludeRequestBodyInCheck *ExtAuthzBody `json:"includeRequestBodyInCheck,omitempty"`
}

// ExtAuthzBody is MeshConfig's includeRequestBodyInCheck.
type ExtAuthzBody struct {
	MaxRequestBytes     uint32 `json:"maxRequestBytes,omitempty"`
	AllowPartialMessage bool   `json:"allowPartialMessage,omitempty"`
	PackAsBytes         bool   `json:"packAsBytes,omitempty"`
}

// extAuthzTarget is the checked, common part of either provider kind.
type extAuthzTarget struct {
	host, cluster string
	port          uint32
	timeout       *durationpb.Duration
	status        typev3.StatusCode
	failOpen      bool
	body          *ExtAuthzBody
}

// target checks a provider and returns what both filter kinds need.
func (p ExtAuthzProvider) target() (extAuthzTarget, error) {
	var service, timeout, status string
	var t extAuthzTarget
	switch {
	case p.EnvoyExtAuthzHTTP != nil && p.EnvoyExtAuthzGRPC != nil:
		return t, errors.New("only one of envoyExtAuthzHttp and envoyExtAuthzGrpc may be set")
	case p.EnvoyExtAuthzHTTP != nil:
		h := p.EnvoyExtAuthzHTTP
		service, t.port, timeout, status, t.failOpen, t.body = h.Service, h.Port, h.Timeout, h.StatusOnError, h.FailOpen, h.IncludeRequestBodyInCheck
	case p.EnvoyExtAuthzGRPC != nil:
		g := p.EnvoyExtAuthzGRPC
		service, t.port, timeout, status, t.failOpen, t.body = g.Service, g.Port, g.Timeout, g.StatusOnError, g.FailOpen, g.IncludeRequestBodyInCheck
	default:
		return t, errors.New("one of envoyExtAuthzHttp and envoyExtAuthzGrpc must be set")
	}
	if _, host, ok := strings.Cut(service, "/"); ok {
		service = host
	}
	if service == "" || t.port == 0 || t.port > 65535 {
		return t, fmt.Errorf("service and port (1-65535) must be set")
	}
	t.host, t.cluster = service, outboundClusterName(t.port, "", service)
	t.timeout = durationpb.New(600 * time.Second)
	if timeout != "" {
		d, err := time.ParseDuration(timeout)
		if err != nil || d <= 0 {
			return t, fmt.Errorf("timeout %q is not a positive duration", timeout)
		}
		t.timeout = durationpb.New(d)
	}
	t.status = typev3.StatusCode_Forbidden
	if status != "" {
		n, err := strconv.Atoi(status)
		if _, known := typev3.StatusCode_name[int32(n)]; err != nil || !known || n == 0 {
			return t, fmt.Errorf("statusOnError %q is not an HTTP status Envoy knows", status)
		}
		t.status = typev3.StatusCode(n)
	}
	return t, nil
}

// extAuthzEnabled limits ext_authz to requests a CUSTOM rule of this provider matched: the
// RBAC filter before it records the matched shadow policy (SEMANTICS.md §4.5).
func extAuthzEnabled(rbacFilter, provider string) *matcherv3.MetadataMatcher {
	return &matcherv3.MetadataMatcher{
		Filter: rbacFilter,
		Path: []*matcherv3.MetadataMatcher_PathSegment{{
			Segment: &matcherv3.MetadataMatcher_PathSegment_Key{Key: authzCustomStatPrefix + "shadow_effective_policy_id"},
		}},
		Value: authzValueString(authzPrefix(authzCustomPrefix(provider))),
	}
}

func (t extAuthzTarget) grpcService() *corev3.GrpcService {
	return &corev3.GrpcService{
		TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{
			ClusterName: t.cluster, Authority: t.host,
		}},
		Timeout: t.timeout,
	}
}

// extAuthzHTTP builds envoy.filters.http.ext_authz for a checked provider.
func extAuthzHTTP(p ExtAuthzProvider, t extAuthzTarget) *extauthzhttpv3.ExtAuthz {
	cfg := &extauthzhttpv3.ExtAuthz{
		TransportApiVersion:   corev3.ApiVersion_V3,
		FailureModeAllow:      t.failOpen,
		StatusOnError:         &typev3.HttpStatus{Code: t.status},
		FilterEnabledMetadata: extAuthzEnabled(authzHTTPFilterName, p.Name),
	}
	if b := t.body; b != nil {
		cfg.WithRequestBody = &extauthzhttpv3.BufferSettings{
			MaxRequestBytes: b.MaxRequestBytes, AllowPartialMessage: b.AllowPartialMessage, PackAsBytes: b.PackAsBytes,
		}
	}
	h := p.EnvoyExtAuthzHTTP
	if h == nil {
		cfg.Services = &extauthzhttpv3.ExtAuthz_GrpcService{GrpcService: t.grpcService()}
		return cfg
	}
	svc := &extauthzhttpv3.HttpService{
		PathPrefix: h.PathPrefix,
		ServerUri: &corev3.HttpUri{
			Uri: "http://" + t.host, Timeout: t.timeout,
			HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: t.cluster},
		},
	}
	cfg.AllowedHeaders = extAuthzHeaders(h.IncludeRequestHeadersInCheck)
	for _, k := range slices.Sorted(maps.Keys(h.IncludeAdditionalHeadersInCheck)) {
		if svc.AuthorizationRequest == nil {
			svc.AuthorizationRequest = &extauthzhttpv3.AuthorizationRequest{}
		}
		svc.AuthorizationRequest.HeadersToAdd = append(svc.AuthorizationRequest.HeadersToAdd,
			&corev3.HeaderValue{Key: k, Value: h.IncludeAdditionalHeadersInCheck[k]})
	}
	if len(h.HeadersToUpstreamOnAllow)+len(h.HeadersToDownstreamOnDeny)+len(h.HeadersToDownstreamOnAllow) > 0 {
		svc.AuthorizationResponse = &extauthzhttpv3.AuthorizationResponse{
			AllowedUpstreamHeaders:        extAuthzHeaders(h.HeadersToUpstreamOnAllow),
			AllowedClientHeaders:          extAuthzHeaders(h.HeadersToDownstreamOnDeny),
			AllowedClientHeadersOnSuccess: extAuthzHeaders(h.HeadersToDownstreamOnAllow),
		}
	}
	cfg.Services = &extauthzhttpv3.ExtAuthz_HttpService{HttpService: svc}
	return cfg
}

// extAuthzNetwork builds envoy.filters.network.ext_authz; only gRPC providers have one.
func extAuthzNetwork(p ExtAuthzProvider, t extAuthzTarget) *extauthznetworkv3.ExtAuthz {
	return &extauthznetworkv3.ExtAuthz{
		StatPrefix:            authzTCPStatPrefix,
		GrpcService:           t.grpcService(),
		FailureModeAllow:      t.failOpen,
		TransportApiVersion:   corev3.ApiVersion_V3,
		FilterEnabledMetadata: extAuthzEnabled(authzNetworkFilterName, p.Name),
	}
}

// extAuthzHeaders turns header names into a case-insensitive list matcher ("x-*" = prefix).
func extAuthzHeaders(names []string) *matcherv3.ListStringMatcher {
	if len(names) == 0 {
		return nil
	}
	l := &matcherv3.ListStringMatcher{}
	for _, n := range names {
		var sm *matcherv3.StringMatcher
		if p, ok := strings.CutSuffix(n, "*"); ok && p != "" {
			sm = authzPrefix(p)
		} else {
			sm = authzExact(n)
		}
		sm.IgnoreCase = true
		l.Patterns = append(l.Patterns, sm)
	}
	return l
}

// extAuthzClusterKeys returns the clusters the CUSTOM providers of this proxy call
// (outbound|<port>||<host>), for the cluster set to emit. A provider whose service is not in
// the registry is reported: its checks then fail with statusOnError, or pass if failOpen.
func extAuthzClusterKeys(in Inputs, reg *registry) ([]clusterKey, []model.Problem) {
	c := customAuthz(in, false)
	var keys []clusterKey
	var problems []model.Problem
	for _, name := range c.providerNames() {
		t := c.targets[name]
		svc := reg.lookup(t.host, in.Proxy.Namespace)
		port := extAuthzServicePort(svc, t.port)
		if port == nil {
			problems = append(problems, model.ProblemFor(c.users[name], model.SeverityWarning, "spec.provider.name",
				"CUSTOM provider %q: no service %s with port %d is known; its checks fail (statusOnError %d) unless failOpen",
				name, t.host, t.port, t.status))
			continue
		}
		keys = append(keys, clusterKey{svc: svc, port: port})
	}
	return keys, problems
}

// extAuthzServicePort is service.port for a possibly missing service, without the "only
// port" fallback of port 0.
func extAuthzServicePort(s *service, number uint32) *networkingv1alpha3.ServicePort {
	if s == nil || number == 0 {
		return nil
	}
	return s.port(number)
}

package explain

import (
	"fmt"
	"strings"

	extauthznetworkv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/ext_authz/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rbacnetworkv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// unpack decodes a filter's typed config; the filter packages imported by this package
// register the types it can decode.
func unpack(a *anypb.Any) (proto.Message, error) {
	if a == nil {
		return nil, fmt.Errorf("no typed_config")
	}
	m, err := a.UnmarshalNew()
	if err != nil {
		return nil, fmt.Errorf("typed_config %s: %w", a.GetTypeUrl(), err)
	}
	return m, nil
}

// networkFilter runs one network filter; done is true once the connection is decided.
func (e *evaluation) networkFilter(name string, msg proto.Message) (done bool, err error) {
	switch cfg := msg.(type) {
	case *rbacnetworkv3.RBAC:
		if cfg.GetMatcher() != nil || cfg.GetShadowMatcher() != nil {
			return false, fmt.Errorf("RBAC matcher trees are not supported")
		}
		return e.rbac(name, rbacFilter{rules: cfg.GetRules(), shadow: cfg.GetShadowRules(),
			shadowPrefix: cfg.GetShadowRulesStatPrefix(), tcp: true}, e.connRBAC())
	case *extauthznetworkv3.ExtAuthz:
		return e.networkExtAuthz(name, cfg)
	case *hcmv3.HttpConnectionManager:
		return true, e.http(cfg)
	case *tcpproxyv3.TcpProxy:
		cluster := cfg.GetCluster()
		if w := cfg.GetWeightedClusters(); w != nil {
			cluster = weightedNames(w.GetClusters())
		}
		e.out.step("tcp_proxy", name, "the connection is proxied to cluster %s", cluster)
		e.out.Allowed, e.out.Cluster = true, cluster
		return true, nil
	}
	e.out.step("network_filter", name, "%T is not modelled; taken to pass the connection on", msg)
	return false, nil
}

// connRBAC is what a network RBAC filter sees: the connection only.
func (e *evaluation) connRBAC() *RBACRequest {
	return &RBACRequest{
		DestinationIP: e.in.DestinationIP, DestinationPort: e.in.Port,
		SourceIP: e.in.SourceIP, PeerPrincipal: e.peer, SNI: e.sni,
		Metadata: e.meta,
	}
}

func (e *evaluation) networkExtAuthz(name string, cfg *extauthznetworkv3.ExtAuthz) (bool, error) {
	provider := extAuthzProvider(cfg.GetFilterEnabledMetadata().GetValue().GetStringMatch().GetPrefix(), cfg.GetGrpcService().GetEnvoyGrpc().GetClusterName())
	if called, err := e.extAuthzCalled(name, provider, cfg.GetFilterEnabledMetadata()); err != nil || !called {
		return false, err
	}
	if e.in.ExtAuthz == ExtAuthzAllow {
		e.out.step("ext_authz", name, "would call provider %s; assumed to allow", provider)
		return false, nil
	}
	e.out.step("ext_authz", name, "would call provider %s; assumed to deny: the connection is closed", provider)
	policy, _ := e.meta[rbacNamespace(true)]["istio_ext_authz_shadow_effective_policy_id"].(string)
	e.out.close(e.cfg.decision(name, policy, "ext_authz provider "+provider+" denied"))
	return true, nil
}

// extAuthzCalled says whether an ext_authz filter calls its service: with filter_enabled_metadata
// only when a CUSTOM rule's shadow RBAC matched and so wrote the metadata it looks for.
func (e *evaluation) extAuthzCalled(name, provider string, enabled *matcherv3.MetadataMatcher) (bool, error) {
	if enabled == nil {
		return true, nil
	}
	ok, err := rbacMetadata(enabled, &RBACRequest{Metadata: e.meta})
	if err != nil || ok {
		return ok, err
	}
	e.out.step("ext_authz", name, "not called: no CUSTOM rule of provider %s matched", provider)
	return false, nil
}

// extAuthzProvider names the CUSTOM provider of an ext_authz filter from the metadata prefix
// that enables it ("istio-ext-authz-<provider>-"), else by its cluster.
func extAuthzProvider(prefix, cluster string) string {
	if p, ok := strings.CutPrefix(prefix, "istio-ext-authz-"); ok {
		return strings.TrimSuffix(p, "-")
	}
	return cluster
}

func weightedNames[T interface{ GetName() string }](cs []T) string {
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		names = append(names, c.GetName())
	}
	return "one of " + strings.Join(names, ", ") + " (weighted)"
}

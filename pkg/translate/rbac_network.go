package translate

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	rbacnetworkv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	"google.golang.org/protobuf/proto"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// rbacNetworkFilters builds the authorization filters of a TCP chain, placed before tcp_proxy:
// CUSTOM (gRPC providers; rules of HTTP-only providers become DENY rules, DIFF D5), then
// AUDIT, DENY and ALLOW envoy.filters.network.rbac (SEMANTICS.md §4.5, §4.6).
func rbacNetworkFilters(in Inputs) ([]*listenerv3.Filter, []model.Problem) {
	c := customAuthz(in, true)
	out, problems := customNetworkFilters(c), c.problems
	for _, action := range []policyAction{actionAudit, actionDeny, actionAllow} {
		set, ps := authzPolicies(in, action, true)
		problems = append(problems, ps...)
		if action == actionDeny {
			for name, p := range c.deny.rules {
				set.add(name, p, false)
			}
		}
		if set.empty() {
			continue
		}
		rules, shadow, prefix := authzRBAC(set, action)
		out = append(out, authzNetworkFilter(authzNetworkFilterName, &rbacnetworkv3.RBAC{
			StatPrefix: authzTCPStatPrefix, Rules: rules, ShadowRules: shadow, ShadowRulesStatPrefix: prefix,
		}))
	}
	return out, problems
}

func customNetworkFilters(c *authzCustom) []*listenerv3.Filter {
	var out []*listenerv3.Filter
	for _, name := range c.providerNames() {
		out = append(out,
			authzNetworkFilter(authzNetworkFilterName, &rbacnetworkv3.RBAC{
				StatPrefix:            authzTCPStatPrefix,
				ShadowRules:           &rbacv3.RBAC{Action: rbacv3.RBAC_DENY, Policies: c.byProvider[name].rules},
				ShadowRulesStatPrefix: authzCustomStatPrefix,
			}),
			authzNetworkFilter(authzExtAuthzNetworkName, extAuthzNetwork(c.providers[name], c.targets[name])))
	}
	if len(c.dryRun.shadow) > 0 {
		out = append(out, authzNetworkFilter(authzNetworkFilterName, &rbacnetworkv3.RBAC{
			StatPrefix:            authzTCPStatPrefix,
			ShadowRules:           &rbacv3.RBAC{Action: rbacv3.RBAC_DENY, Policies: c.dryRun.shadow},
			ShadowRulesStatPrefix: authzDryRunCustomPrefix,
		}))
	}
	return out
}

func authzNetworkFilter(name string, cfg proto.Message) *listenerv3.Filter {
	return &listenerv3.Filter{Name: name, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(cfg)}}
}

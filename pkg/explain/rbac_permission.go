package explain

import (
	"fmt"

	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	uritemplatev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/match/uri_template/v3"
)

// RBACPermissionMatches evaluates a Permission tree (what is asked for) as Envoy does.
func RBACPermissionMatches(p *rbacv3.Permission, r *RBACRequest) (bool, error) {
	switch rule := p.GetRule().(type) {
	case *rbacv3.Permission_Any:
		return rule.Any, nil
	case *rbacv3.Permission_AndRules:
		return rbacAll(rule.AndRules.GetRules(), func(x *rbacv3.Permission) (bool, error) { return RBACPermissionMatches(x, r) })
	case *rbacv3.Permission_OrRules:
		return rbacAny(rule.OrRules.GetRules(), func(x *rbacv3.Permission) (bool, error) { return RBACPermissionMatches(x, r) })
	case *rbacv3.Permission_NotRule:
		ok, err := RBACPermissionMatches(rule.NotRule, r)
		return !ok && err == nil, err
	case *rbacv3.Permission_Header:
		return rbacHeader(rule.Header, r)
	case *rbacv3.Permission_UrlPath:
		return rbacPathMatcher(rule.UrlPath, r.Path)
	case *rbacv3.Permission_DestinationIp:
		return rbacInCIDR(rule.DestinationIp, r.DestinationIP)
	case *rbacv3.Permission_DestinationPort:
		return rule.DestinationPort == r.DestinationPort, nil
	case *rbacv3.Permission_DestinationPortRange:
		return int64(r.DestinationPort) >= int64(rule.DestinationPortRange.GetStart()) &&
			int64(r.DestinationPort) < int64(rule.DestinationPortRange.GetEnd()), nil
	case *rbacv3.Permission_RequestedServerName:
		return rbacString(rule.RequestedServerName, r.SNI)
	case *rbacv3.Permission_Metadata:
		return rbacMetadata(rule.Metadata, r)
	case *rbacv3.Permission_UriTemplate:
		var cfg uritemplatev3.UriTemplateMatchConfig
		if err := rule.UriTemplate.GetTypedConfig().UnmarshalTo(&cfg); err != nil {
			return false, fmt.Errorf("uri_template %s: %w", rule.UriTemplate.GetName(), err)
		}
		return rbacURITemplate(cfg.GetPathTemplate(), rbacPath(r.Path))
	}
	return false, fmt.Errorf("unsupported permission %T", p.GetRule())
}

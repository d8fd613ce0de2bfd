package explain

import (
	"fmt"
	"net/netip"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
)

// RBACPrincipalMatches evaluates a Principal tree (who is asking) as Envoy does. Identifiers
// the control plane never emits return an error rather than a guess.
func RBACPrincipalMatches(p *rbacv3.Principal, r *RBACRequest) (bool, error) {
	switch id := p.GetIdentifier().(type) {
	case *rbacv3.Principal_Any:
		return id.Any, nil
	case *rbacv3.Principal_AndIds:
		return rbacAll(id.AndIds.GetIds(), func(x *rbacv3.Principal) (bool, error) { return RBACPrincipalMatches(x, r) })
	case *rbacv3.Principal_OrIds:
		return rbacAny(id.OrIds.GetIds(), func(x *rbacv3.Principal) (bool, error) { return RBACPrincipalMatches(x, r) })
	case *rbacv3.Principal_NotId:
		ok, err := RBACPrincipalMatches(id.NotId, r)
		return !ok && err == nil, err
	case *rbacv3.Principal_Authenticated_:
		// No certificate, no identity: positive identity matchers fail on plaintext.
		if r.PeerPrincipal == "" {
			return false, nil
		}
		if id.Authenticated.GetPrincipalName() == nil {
			return true, nil
		}
		return rbacString(id.Authenticated.GetPrincipalName(), r.PeerPrincipal)
	case *rbacv3.Principal_DirectRemoteIp:
		return rbacInCIDR(id.DirectRemoteIp, r.SourceIP)
	case *rbacv3.Principal_SourceIp:
		return rbacInCIDR(id.SourceIp, r.SourceIP)
	case *rbacv3.Principal_RemoteIp:
		ip := r.RemoteIP
		if ip == "" {
			ip = r.SourceIP
		}
		return rbacInCIDR(id.RemoteIp, ip)
	case *rbacv3.Principal_Header:
		return rbacHeader(id.Header, r)
	case *rbacv3.Principal_UrlPath:
		return rbacPathMatcher(id.UrlPath, r.Path)
	case *rbacv3.Principal_Metadata:
		return rbacMetadata(id.Metadata, r)
	}
	return false, fmt.Errorf("unsupported principal %T", p.GetIdentifier())
}

// rbacInCIDR: an unknown or unparsable address is in no range.
func rbacInCIDR(c *corev3.CidrRange, ip string) (bool, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false, nil
	}
	base, err := netip.ParseAddr(c.GetAddressPrefix())
	if err != nil {
		return false, fmt.Errorf("bad CIDR address %q", c.GetAddressPrefix())
	}
	bits := int(c.GetPrefixLen().GetValue())
	if c.GetPrefixLen() == nil {
		bits = base.BitLen()
	}
	pfx, err := base.Prefix(bits)
	if err != nil {
		return false, fmt.Errorf("bad CIDR %s/%d: %w", base, bits, err)
	}
	return pfx.Contains(a.Unmap()), nil
}

package translate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// authzAttr is one Istio attribute (a Source/Operation field or a when key): how the list of
// its values becomes one matcher, the OR of the values. Exactly one of principal and
// permission is set.
type authzAttr struct {
	principal  func(values []string) (*rbacv3.Principal, error)
	permission func(values []string) (*rbacv3.Permission, error)
	// httpOnly attributes cannot be evaluated on TCP chains (SEMANTICS.md §4.6).
	httpOnly bool
	// noCustom attributes are unknown when CUSTOM runs: before jwt_authn, and identity
	// fields Istio does not support there (SEMANTICS.md §4.2).
	noCustom bool
	// wildcard attributes follow the wildcard rule of §4.3 and warn about "a*b".
	wildcard bool
	// warn returns a warning for one value, or "".
	warn func(v string) string
}

// authzContext is what attribute translation needs besides the values.
type authzContext struct {
	namespace string // the policy's namespace: serviceAccounts without one are in it
	// trustDomains is {trustDomain} ∪ aliases, in that order: a principal in any of them
	// is one of ours.
	trustDomains []string
}

func newAuthzContext(mesh model.Mesh, namespace string) authzContext {
	mesh = mesh.WithDefaults()
	tds := []string{mesh.TrustDomain}
	for _, a := range mesh.TrustDomainAliases {
		if !slices.Contains(tds, a) {
			tds = append(tds, a)
		}
	}
	return authzContext{namespace: namespace, trustDomains: tds}
}

// local reports a trust domain that names ours: the configured one, an alias, or the literal
// "cluster.local" Istio documents as "the local trust domain".
func (c authzContext) local(td string) bool {
	return td == model.DefaultTrustDomain || slices.Contains(c.trustDomains, td)
}

// principalsAttr: source.principals / source.principal, the peer's SPIFFE ID without
// "spiffe://". <td>/ns/<ns>/sa/<sa> in a local trust domain matches every local domain.
func (c authzContext) principalsAttr() authzAttr {
	return authzAttr{noCustom: true, wildcard: true, principal: func(values []string) (*rbacv3.Principal, error) {
		return authzEachID(values, func(v string) ([]*rbacv3.Principal, error) {
			var out []*rbacv3.Principal
			for _, x := range c.expandPrincipal(v) {
				out = append(out, authzPeer(authzString(x, "spiffe://")))
			}
			return out, nil
		})
	}}
}

func (c authzContext) expandPrincipal(v string) []string {
	parts := strings.Split(v, "/")
	if len(parts) != 5 || parts[1] != "ns" || parts[3] != "sa" || !c.local(parts[0]) {
		return []string{v}
	}
	rest := strings.Join(parts[1:], "/")
	out := make([]string, 0, len(c.trustDomains))
	for _, td := range c.trustDomains {
		out = append(out, td+"/"+rest)
	}
	return out
}

// namespacesAttr: source.namespaces / source.namespace, matched inside the peer's SPIFFE ID.
func namespacesAttr() authzAttr {
	return authzAttr{noCustom: true, wildcard: true, principal: func(values []string) (*rbacv3.Principal, error) {
		return authzEachID(values, func(v string) ([]*rbacv3.Principal, error) {
			parts := strings.Split(v, "*")
			for i, p := range parts {
				parts[i] = regexp.QuoteMeta(p)
			}
			re := ".*/ns/" + strings.Join(parts, ".*") + "/.*"
			return []*rbacv3.Principal{authzPeer(authzRegex(re))}, nil
		})
	}}
}

// serviceAccountsAttr: source.serviceAccounts / source.serviceAccount, "sa" (in the policy's
// namespace) or "ns/sa", allowing extra SPIFFE path segments as Istio does.
func (c authzContext) serviceAccountsAttr() authzAttr {
	return authzAttr{noCustom: true, principal: func(values []string) (*rbacv3.Principal, error) {
		if len(values) > 16 {
			return nil, fmt.Errorf("may not have more than 16 values")
		}
		return authzEachID(values, func(v string) ([]*rbacv3.Principal, error) {
			if err := model.CheckAuthzServiceAccount(v); err != nil {
				return nil, err
			}
			ns, sa, ok := strings.Cut(v, "/")
			if !ok {
				ns, sa = c.namespace, v
			}
			re := "spiffe://.+/ns/" + regexp.QuoteMeta(ns) + "/(.+/|)sa/" + regexp.QuoteMeta(sa) + "(/.+)?"
			return []*rbacv3.Principal{authzPeer(authzRegex(re))}, nil
		})
	}}
}

// trustDomainsAttr: source.trustDomains / source.trustDomain; a local domain matches all of
// them.
func (c authzContext) trustDomainsAttr() authzAttr {
	return authzAttr{noCustom: true, principal: func(values []string) (*rbacv3.Principal, error) {
		return authzEachID(values, func(v string) ([]*rbacv3.Principal, error) {
			if err := model.CheckAuthzTrustDomain(v); err != nil {
				return nil, err
			}
			switch {
			case v == "*":
				return []*rbacv3.Principal{authzPeer(authzPrefix("spiffe://"))}, nil
			case strings.HasSuffix(v, "*"):
				re := "spiffe://" + regexp.QuoteMeta(v[:len(v)-1]) + "[^/]*/.*"
				return []*rbacv3.Principal{authzPeer(authzRegex(re))}, nil
			case strings.HasPrefix(v, "*"):
				re := "spiffe://[^/]*" + regexp.QuoteMeta(v[1:]) + "/.*"
				return []*rbacv3.Principal{authzPeer(authzRegex(re))}, nil
			}
			tds := []string{v}
			if c.local(v) {
				tds = c.trustDomains
			}
			var out []*rbacv3.Principal
			for _, td := range tds {
				out = append(out, authzPeer(authzPrefix("spiffe://"+td+"/")))
			}
			return out, nil
		})
	}}
}

// ipBlocksAttr: source.ipBlocks / source.ip, the connection's peer address.
func ipBlocksAttr() authzAttr {
	return authzAttr{principal: func(values []string) (*rbacv3.Principal, error) {
		return authzEachID(values, func(v string) ([]*rbacv3.Principal, error) {
			p, err := model.ParseAuthzIP(v)
			if err != nil {
				return nil, err
			}
			return []*rbacv3.Principal{{Identifier: &rbacv3.Principal_DirectRemoteIp{DirectRemoteIp: authzCIDR(p)}}}, nil
		})
	}}
}

// remoteIPBlocksAttr: source.remoteIpBlocks / remote.ip, the client address from
// x-forwarded-for or the PROXY protocol.
func remoteIPBlocksAttr() authzAttr {
	return authzAttr{principal: func(values []string) (*rbacv3.Principal, error) {
		return authzEachID(values, func(v string) ([]*rbacv3.Principal, error) {
			p, err := model.ParseAuthzIP(v)
			if err != nil {
				return nil, err
			}
			return []*rbacv3.Principal{{Identifier: &rbacv3.Principal_RemoteIp{RemoteIp: authzCIDR(p)}}}, nil
		})
	}}
}

// headerAttr: request.headers[<name>]; values are case-sensitive, "*" means present.
func headerAttr(name string) authzAttr {
	return authzAttr{httpOnly: true, wildcard: true, principal: func(values []string) (*rbacv3.Principal, error) {
		return authzEachID(values, func(v string) ([]*rbacv3.Principal, error) {
			return []*rbacv3.Principal{{Identifier: &rbacv3.Principal_Header{Header: authzHeader(name, v, false)}}}, nil
		})
	}}
}

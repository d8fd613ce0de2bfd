package translate

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	uritemplatev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/match/uri_template/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

func authzHeaderRule(name, v string, ignoreCase bool) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_Header{Header: authzHeader(name, v, ignoreCase)}}
}

// hostsAttr: operation.hosts, the whole :authority, case-insensitive. A value without a port
// does not match "host:port", as in Istio (SEMANTICS.md §4.3).
func hostsAttr() authzAttr {
	return authzAttr{httpOnly: true, wildcard: true, permission: func(values []string) (*rbacv3.Permission, error) {
		return authzEachRule(values, func(v string) (*rbacv3.Permission, error) {
			return authzHeaderRule(":authority", v, true), nil
		})
	}}
}

// methodsAttr: operation.methods, case-sensitive (gRPC is always POST).
func methodsAttr() authzAttr {
	return authzAttr{httpOnly: true, wildcard: true, permission: func(values []string) (*rbacv3.Permission, error) {
		return authzEachRule(values, func(v string) (*rbacv3.Permission, error) {
			return authzHeaderRule(":method", v, false), nil
		})
	}}
}

// pathsAttr: operation.paths, the path without query after HCM normalisation. Values with
// {*} or {**} become Envoy URI templates (SEMANTICS.md §4.4).
func pathsAttr() authzAttr {
	return authzAttr{httpOnly: true, wildcard: true, permission: func(values []string) (*rbacv3.Permission, error) {
		return authzEachRule(values, func(v string) (*rbacv3.Permission, error) {
			if err := model.CheckPathTemplate(v); err != nil {
				return nil, err
			}
			if !model.HasPathTemplate(v) {
				return &rbacv3.Permission{Rule: &rbacv3.Permission_UrlPath{UrlPath: &matcherv3.PathMatcher{
					Rule: &matcherv3.PathMatcher_Path{Path: authzString(v, "")},
				}}}, nil
			}
			tmpl := strings.NewReplacer("{**}", "**", "{*}", "*").Replace(v)
			return &rbacv3.Permission{Rule: &rbacv3.Permission_UriTemplate{UriTemplate: &corev3.TypedExtensionConfig{
				Name:        "uri-template",
				TypedConfig: mustAny(&uritemplatev3.UriTemplateMatchConfig{PathTemplate: tmpl}),
			}}}, nil
		})
	}}
}

// portsAttr: operation.ports / destination.port.
func portsAttr() authzAttr {
	return authzAttr{permission: func(values []string) (*rbacv3.Permission, error) {
		return authzEachRule(values, func(v string) (*rbacv3.Permission, error) {
			p, err := model.ParseAuthzPort(v)
			if err != nil {
				return nil, err
			}
			return &rbacv3.Permission{Rule: &rbacv3.Permission_DestinationPort{DestinationPort: p}}, nil
		})
	}}
}

// destinationIPAttr: destination.ip, the local address the connection arrived on.
func destinationIPAttr() authzAttr {
	return authzAttr{permission: func(values []string) (*rbacv3.Permission, error) {
		return authzEachRule(values, func(v string) (*rbacv3.Permission, error) {
			p, err := model.ParseAuthzIP(v)
			if err != nil {
				return nil, err
			}
			return &rbacv3.Permission{Rule: &rbacv3.Permission_DestinationIp{DestinationIp: authzCIDR(p)}}, nil
		})
	}}
}

// sniAttr: connection.sni, the TLS server name the client asked for.
func sniAttr() authzAttr {
	return authzAttr{wildcard: true, permission: func(values []string) (*rbacv3.Permission, error) {
		return authzEachRule(values, func(v string) (*rbacv3.Permission, error) {
			return &rbacv3.Permission{Rule: &rbacv3.Permission_RequestedServerName{RequestedServerName: authzString(v, "")}}, nil
		})
	}}
}

// envoyFilterAttr: experimental.envoy.filters.<f>[<k>], dynamic metadata key k of filter
// envoy.filters.<f>; a value written "[v]" matches an element of a list.
func envoyFilterAttr(key string) authzAttr {
	inner := strings.TrimSuffix(strings.TrimPrefix(key, "experimental."), "]")
	filter, k, _ := strings.Cut(inner, "[")
	return authzAttr{wildcard: true, permission: func(values []string) (*rbacv3.Permission, error) {
		return authzEachRule(values, func(v string) (*rbacv3.Permission, error) {
			var vm *matcherv3.ValueMatcher
			if len(v) >= 2 && strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
				vm = &matcherv3.ValueMatcher{MatchPattern: &matcherv3.ValueMatcher_ListMatch{ListMatch: &matcherv3.ListMatcher{
					MatchPattern: &matcherv3.ListMatcher_OneOf{OneOf: authzValueString(authzString(v[1:len(v)-1], ""))},
				}}}
			} else {
				vm = authzValueString(authzString(v, ""))
			}
			return &rbacv3.Permission{Rule: &rbacv3.Permission_Metadata{Metadata: &matcherv3.MetadataMatcher{
				Filter: filter,
				Path:   []*matcherv3.MetadataMatcher_PathSegment{{Segment: &matcherv3.MetadataMatcher_PathSegment_Key{Key: k}}},
				Value:  vm,
			}}}, nil
		})
	}}
}

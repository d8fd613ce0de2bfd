package translate

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	uritemplatev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/match/uri_template/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

func urlPath(sm *matcherv3.StringMatcher) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_UrlPath{UrlPath: &matcherv3.PathMatcher{
		Rule: &matcherv3.PathMatcher_Path{Path: sm},
	}}}
}

func uriTemplate(tmpl string) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_UriTemplate{UriTemplate: &corev3.TypedExtensionConfig{
		Name: "uri-template", TypedConfig: mustAny(&uritemplatev3.UriTemplateMatchConfig{PathTemplate: tmpl}),
	}}}
}

func TestPermissionSideAttrs(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		attr    authzAttr
		values  []string
		want    *rbacv3.Permission
		wantErr string
	}{
		"hosts are case-insensitive, star is presence": {
			attr: hostsAttr(), values: []string{"example.com", "*.example.com", "*"},
			want: authzOrRules([]*rbacv3.Permission{
				authzHeaderRule(":authority", "example.com", true),
				authzHeaderRule(":authority", "*.example.com", true),
				authzHeaderRule(":authority", "*", true),
			}),
		},
		"methods": {
			attr: methodsAttr(), values: []string{"GET"},
			want: authzOrRules([]*rbacv3.Permission{authzHeaderRule(":method", "GET", false)}),
		},
		"paths": {
			attr: pathsAttr(), values: []string{"/admin*", "/x", "*/info", "*"},
			want: authzOrRules([]*rbacv3.Permission{
				urlPath(authzPrefix("/admin")), urlPath(authzExact("/x")), urlPath(authzSuffix("/info")), urlPath(authzRegex(".+")),
			}),
		},
		"path templates": {
			attr: pathsAttr(), values: []string{"/api/{*}/users/{**}"},
			want: authzOrRules([]*rbacv3.Permission{uriTemplate("/api/*/users/**")}),
		},
		"template with {**} not last fails": {attr: pathsAttr(), values: []string{"/{**}/a/{*}"}, wantErr: "not the last operator"},
		"template with star literal fails":  {attr: pathsAttr(), values: []string{"/a*/{*}"}, wantErr: "invalid string literal"},
		"brace outside template fails":      {attr: pathsAttr(), values: []string{"/a/{id}"}, wantErr: "beyond a supported path template"},
		"ports": {
			attr: portsAttr(), values: []string{"80", "0"},
			want: authzOrRules([]*rbacv3.Permission{
				{Rule: &rbacv3.Permission_DestinationPort{DestinationPort: 80}},
				{Rule: &rbacv3.Permission_DestinationPort{DestinationPort: 0}},
			}),
		},
		"bad port fails":      {attr: portsAttr(), values: []string{"65536"}, wantErr: "bad port (65536)"},
		"named port fails":    {attr: portsAttr(), values: []string{"http"}, wantErr: "bad port (http)"},
		"destination ip":      {attr: destinationIPAttr(), values: []string{"::1"}, want: authzOrRules([]*rbacv3.Permission{{Rule: &rbacv3.Permission_DestinationIp{DestinationIp: authzCIDR(mustPrefix(t, "::1/128"))}}})},
		"sni":                 {attr: sniAttr(), values: []string{"*.svc"}, want: authzOrRules([]*rbacv3.Permission{{Rule: &rbacv3.Permission_RequestedServerName{RequestedServerName: authzSuffix(".svc")}}})},
		"empty value fails":   {attr: methodsAttr(), values: []string{""}, wantErr: "empty value"},
		"envoy filter string": {attr: envoyFilterAttr("experimental.envoy.filters.a.b[k]"), values: []string{"v"}, want: authzOrRules([]*rbacv3.Permission{metadataRule("envoy.filters.a.b", "k", authzValueString(authzExact("v")))})},
		"envoy filter list": {attr: envoyFilterAttr("experimental.envoy.filters.a.b[k]"), values: []string{"[v*]"}, want: authzOrRules([]*rbacv3.Permission{metadataRule("envoy.filters.a.b", "k",
			&matcherv3.ValueMatcher{MatchPattern: &matcherv3.ValueMatcher_ListMatch{ListMatch: &matcherv3.ListMatcher{MatchPattern: &matcherv3.ListMatcher_OneOf{OneOf: authzValueString(authzPrefix("v"))}}}})})},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.attr.permission(tc.values)
			checkErr(t, err, tc.wantErr)
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func metadataRule(filter, key string, v *matcherv3.ValueMatcher) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_Metadata{Metadata: &matcherv3.MetadataMatcher{
		Filter: filter,
		Path:   []*matcherv3.MetadataMatcher_PathSegment{{Segment: &matcherv3.MetadataMatcher_PathSegment_Key{Key: key}}},
		Value:  v,
	}}}
}

// TestHostHeaderIgnoresCase pins ignore_case on :authority and not on :method.
func TestHostHeaderIgnoresCase(t *testing.T) {
	t.Parallel()
	if !authzHeader(":authority", "a", true).GetStringMatch().GetIgnoreCase() {
		t.Error("hosts must match case-insensitively")
	}
	if authzHeader(":method", "GET", false).GetStringMatch().GetIgnoreCase() {
		t.Error("methods must match case-sensitively")
	}
}

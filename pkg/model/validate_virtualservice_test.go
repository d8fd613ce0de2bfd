package model

import "testing"

func TestValidateVirtualService(t *testing.T) {
	runValidateCases(t, map[string]validateCase{
		"valid": {kind: KindVirtualService, spec: `
hosts: [reviews.example.com]
gateways: [gw]
http:
- match: [{uri: {prefix: /a}, headers: {x-v: {regex: "v[0-9]+"}}}]
  route: [{destination: {host: a.default.svc.cluster.local, subset: v1}, weight: 90}, {destination: {host: b}, weight: 10}]
- redirect: {uri: /new}
- directResponse: {status: 404}`},
		"no hosts no routes": {kind: KindVirtualService, spec: `{}`,
			want: []string{
				"spec: http, tcp or tls must be provided in virtual service",
				"spec.hosts: virtual service must have at least one host (delegate virtual services are not supported)",
			}},
		"wildcard host for mesh": {kind: KindVirtualService, spec: `{hosts: ["*", "bad_host"], http: [{route: [{destination: {host: a}}]}]}`,
			want: []string{
				"spec.hosts[0]: wildcard host * is not allowed for virtual services bound to the mesh gateway",
				`spec.hosts[1]: domain name "bad_host" invalid (label "bad_host" invalid)`,
			}},
		"route without action": {kind: KindVirtualService, spec: `{hosts: [a], http: [{match: [{uri: {prefix: ""}}]}]}`,
			want: []string{
				"spec.http[0]: HTTP route, redirect or direct_response is required",
				"spec.http[0].match[0].uri.prefix: prefix string match should not be empty",
			}},
		"route and redirect": {kind: KindVirtualService, spec: `{hosts: [a], http: [{redirect: {}, route: [{destination: {host: a}}]}]}`,
			want: []string{
				"spec.http[0]: HTTP route cannot contain both route and redirect",
				"spec.http[0].redirect: redirect must specify URI, authority, scheme, or port",
			}},
		"destinations": {kind: KindVirtualService, spec: `
hosts: [a]
http:
- route: [{destination: {host: ""}}, {destination: {host: "*", subset: Bad, port: {number: 0}}}]
- route: [{weight: -1}]`,
			want: []string{
				"spec.http[0].route: total destination weight = 0",
				"spec.http[0].route[0].destination.host: empty domain name not allowed",
				"spec.http[0].route[1].destination.host: invalid destination host *",
				"spec.http[0].route[1].destination.port.number: port number 0 must be in the range 1..65535",
				"spec.http[0].route[1].destination.subset: subset name is invalid: Bad",
				"spec.http[1].route[0].destination: destination is required",
				"spec.http[1].route[0].weight: weight -1 < 0",
			}},
		"bad regex": {kind: KindVirtualService, spec: `{hosts: [a], http: [{match: [{headers: {x: {regex: "a(?=b)"}}}], directResponse: {status: 200}}]}`,
			want: []string{"spec.http[0].match[0].headers.x.regex: error parsing regexp: invalid or unsupported Perl syntax: `(?=`; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)"}},
		"redirect fields": {kind: KindVirtualService, spec: `{hosts: [a], http: [{redirect: {uri: /x, redirectCode: 200, scheme: ftp}}]}`,
			want: []string{
				"spec.http[0].redirect.redirectCode: 200 is not a valid redirect code, must be 3xx",
				`spec.http[0].redirect.scheme: invalid redirect scheme, must be "http" or "https"`,
			}},
		"tls and tcp routes": {kind: KindVirtualService, spec: `{hosts: [a.b], gateways: [gw], tls: [{match: [{}]}], tcp: [{}]}`,
			want: []string{
				"spec.tcp[0].route: TCP route is required",
				"spec.tls[0].match[0].sniHosts: TLS match must have at least one SNI host",
				"spec.tls[0].route: TLS route is required",
			}},
	})
}

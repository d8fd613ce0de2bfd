package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	securityv1beta1 "istio.io/api/security/v1beta1"
	"sigs.k8s.io/yaml"
)

// apProblems validates an AuthorizationPolicy in namespace foo written as YAML and returns
// "field: [warning: ]reason" per problem.
func apProblems(t *testing.T, spec string, annotations map[string]string) []string {
	t.Helper()
	js, err := yaml.YAMLToJSON([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	s := &securityv1beta1.AuthorizationPolicy{}
	if err := protojson.Unmarshal(js, s); err != nil {
		t.Fatal(err)
	}
	ap := &AuthorizationPolicy{Meta: Meta{Kind: KindAuthorizationPolicy, Namespace: "foo", Name: "p", Annotations: annotations}, Spec: s}
	var got []string
	for _, p := range Validate(ap, Mesh{}) {
		s := p.Field + ": "
		if p.Severity == SeverityWarning {
			s += "warning: "
		}
		got = append(got, s+p.Reason)
	}
	return got
}

func TestValidateAuthorizationPolicy(t *testing.T) {
	t.Parallel()
	const tcpWarning = "warning: " + AuthzDenyTCPWarning
	tests := map[string]struct {
		spec        string
		annotations map[string]string
		want        []string
	}{
		"allow nothing": {spec: `{}`},
		"allow all":     {spec: `{rules: [{}]}`},
		"full valid rule": {spec: `
rules:
- from: [{source: {principals: [cluster.local/ns/a/sa/b], requestPrincipals: ["iss/sub"], namespaces: [a], ipBlocks: [10.0.0.0/8, 1.2.3.4], remoteIpBlocks: ["::1"], trustDomains: ["td*"]}}]
  to: [{operation: {hosts: [example.com], methods: [GET], paths: ["/a/{*}/b/{**}"], ports: ["80"]}}]
  when:
  - {key: "request.auth.claims[groups][0]", values: [dev]}
  - {key: "request.headers[x-a]", notValues: ["b"]}
  - {key: "experimental.envoy.filters.network.mysql_proxy[db.table]", values: ["[update]"]}
  - {key: destination.port, values: ["443"]}`},
		"deny without rules": {spec: `{action: DENY}`, want: []string{
			"spec.rules: DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request",
		}},
		"custom without provider": {spec: `{action: CUSTOM, rules: [{}]}`, want: []string{"spec.provider.name: `provider.name` must not be empty"}},
		"custom with identity fields": {spec: `
action: CUSTOM
provider: {name: x}
rules: [{from: [{source: {principals: [a], notNamespaces: [b]}}], when: [{key: "request.auth.claims[a]", values: [b]}, {key: source.ip, values: [1.2.3.4]}]}]`,
			want: []string{
				"spec.rules[0].from[0].source.notNamespaces: From.NotNamespaces is currently not supported with CUSTOM action",
				"spec.rules[0].from[0].source.principals: From.Principals is currently not supported with CUSTOM action",
				"spec.rules[0].when[0].key: request.auth.claims[a] is currently not supported with CUSTOM action",
			}},
		"provider on allow": {spec: `{provider: {name: x}, rules: [{}]}`, want: []string{"spec.provider: `provider` must not be with non CUSTOM action, found ALLOW"}},
		"empty source and operation": {spec: `{rules: [{from: [{source: {}}, {}], to: [{operation: {}}, {}]}]}`, want: []string{
			"spec.rules[0].from[0].source: `from.source` must not be empty",
			"spec.rules[0].from[1].source: `from.source` must not be nil",
			"spec.rules[0].to[0].operation: `to.operation` must not be empty",
			"spec.rules[0].to[1].operation: `to.operation` must not be nil",
		}},
		"bad values": {spec: `
rules:
- from: [{source: {ipBlocks: [10.0.0.0/33], notRemoteIpBlocks: [1.2.3], principals: [""]}}]
  to: [{operation: {ports: [http], paths: ["/a/{id}", "/{**}/x/{*}", "/x*/{*}"]}}]`,
			want: []string{
				`spec.rules[0].from[0].source.ipBlocks[0]: bad CIDR range (10.0.0.0/33): netip.ParsePrefix("10.0.0.0/33"): prefix length out of range`,
				"spec.rules[0].from[0].source.notRemoteIpBlocks[0]: bad IP address (1.2.3)",
				"spec.rules[0].from[0].source.principals: empty value not allowed, found in Principals",
				"spec.rules[0].to[0].operation.paths[0]: invalid or unsupported path /a/{id}: contains '{' or '}' beyond a supported path template",
				"spec.rules[0].to[0].operation.paths[1]: invalid or unsupported path /{**}/x/{*}: {**} is not the last operator",
				`spec.rules[0].to[0].operation.paths[2]: invalid or unsupported path /x*/{*}: contains segment "x*" with invalid string literal`,
				"spec.rules[0].to[0].operation.ports[0]: bad port (http): must be a decimal number in 0-65535",
			}},
		"service accounts": {spec: `{rules: [{from: [{source: {serviceAccounts: ["a/b/c", "s*"], principals: [x/y]}}]}]}`, want: []string{
			"spec.rules[0].from[0].source.serviceAccounts: cannot set serviceAccounts with namespaces or principals",
			`spec.rules[0].from[0].source.serviceAccounts[0]: expected format 'serviceAccount' or 'namespace/serviceAccount', found "a/b/c"`,
			`spec.rules[0].from[0].source.serviceAccounts[1]: wildcard not allowed, found "s*"`,
		}},
		"trust domains": {spec: `{rules: [{from: [{source: {trustDomains: ["a/b", "*a*", "a*b"]}}]}]}`, want: []string{
			`spec.rules[0].from[0].source.trustDomains[0]: trust domain "a/b" must not contain '/'`,
			`spec.rules[0].from[0].source.trustDomains[1]: trust domain "*a*" may have one '*', only at its start or end`,
			`spec.rules[0].from[0].source.trustDomains[2]: trust domain "a*b" may have one '*', only at its start or end`,
		}},
		"condition keys": {spec: `
rules:
- when:
  - {key: "", values: [a]}
  - {key: request.bogus, values: [a]}
  - {key: destination.namespace, values: [a]}
  - {key: "destination.labels[app]", values: [a]}
  - {key: destination.user, values: [a]}
  - {key: request.headers, values: [a]}
  - {key: "request.auth.claims[a][]", values: [a]}
  - {key: source.ip}
  - {key: destination.port, notValues: ["99999"]}
  - {key: source.serviceAccount, values: [""]}`,
			want: []string{
				"spec.rules[0].when[0].key: `key` must not be empty",
				"spec.rules[0].when[1].key: unknown attribute: request.bogus",
				"spec.rules[0].when[2].key: attribute destination.namespace is replaced by the metadata.namespace",
				"spec.rules[0].when[3].key: attribute destination.labels[app] is replaced by the workload selector",
				"spec.rules[0].when[4].key: deprecated attribute destination.user: only supported in v1alpha1",
				"spec.rules[0].when[5].key: unknown attribute: request.headers",
				"spec.rules[0].when[6].key: bad key (request.auth.claims[a][]): should have format a[b] or a[b][c]",
				"spec.rules[0].when[7]: at least one of `values` or `notValues` must be set for key source.ip",
				"spec.rules[0].when[8].notValues[0]: bad port (99999): must be a decimal number in 0-65535",
				"spec.rules[0].when[9].values: empty value not allowed, found in Values",
			}},
		"deny with only HTTP attributes warns": {spec: `{action: DENY, rules: [{to: [{operation: {methods: [GET]}}]}, {from: [{source: {requestPrincipals: ["*"]}}]}, {to: [{operation: {methods: [GET], ports: ["80"]}}]}]}`,
			want: []string{"spec.rules[0]: " + tcpWarning, "spec.rules[1]: " + tcpWarning}},
		"wildcards and hosts warn": {spec: `{action: DENY, rules: [{to: [{operation: {hosts: [a.com, "b.com", "b.com:*"], notHosts: [c.com], paths: ["/a*b"]}}]}]}`,
			want: []string{
				"spec.rules[0]: " + tcpWarning,
				`spec.rules[0].to[0].operation.hosts[0]: warning: "a.com" does not match requests to a.com:<port>; add "a.com:*" to match them too`,
				`spec.rules[0].to[0].operation.notHosts[0]: warning: "c.com" does not match requests to c.com:<port>; add "c.com:*" to match them too`,
				`spec.rules[0].to[0].operation.paths[0]: warning: "/a*b" is matched literally: '*' is a wildcard only at the start or end of a value`,
			}},
		"dry-run annotation": {spec: `{}`, annotations: map[string]string{DryRunAnnotation: "yes"}, want: []string{
			`metadata.annotations[istio.io/dry-run]: invalid value "yes" for annotation istio.io/dry-run: must be a boolean, the policy is enforced`,
		}},
		"dry-run true": {spec: `{}`, annotations: map[string]string{DryRunAnnotation: "T"}},
		"selector and targetRef": {spec: `{selector: {matchLabels: {a: b}}, targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: g}]}`,
			want: []string{"spec.selector: only one of targetRefs or workloadSelector can be set"}},
		"targetRef kind": {spec: `{action: DENY, rules: [{}], targetRef: {kind: Service, name: s}}`, want: []string{
			"spec.targetRef: targetRef kind /Service is not supported: the policy applies to no proxy (DENY policy not applied)",
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := apProblems(t, tc.spec, tc.annotations)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

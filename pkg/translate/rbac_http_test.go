package translate

import (
	"testing"

	"github.com/plainenvoy/controlplane/pkg/explain"
)

const authzHeader0 = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n"

// TestAuthzDecisions translates policies for the test sidecar and runs a request through the
// resulting RBAC filters (SEMANTICS.md §4.5, §4.6, §4.7, §4.9).
func TestAuthzDecisions(t *testing.T) {
	t.Parallel()
	get := &explain.RBACRequest{Method: "GET", Host: "httpbin", Path: "/x", DestinationPort: 8000,
		SourceIP: "10.0.0.1", PeerPrincipal: "spiffe://cluster.local/ns/dev/sa/client"}
	admin := *get
	admin.Path = "/admin"
	plain := *get
	plain.PeerPrincipal = ""
	tests := map[string]struct {
		policies   string
		providers  []ExtAuthzProvider
		tcp        bool
		req        *explain.RBACRequest
		wantAllow  bool
		wantPolicy string
		problems   []string
	}{
		"no policy allows": {req: get, wantAllow: true},
		"allow without rules denies all": {
			policies: authzHeader0 + "  {name: a, namespace: foo}\nspec: {}\n", req: get, wantPolicy: "",
		},
		"allow empty rule allows all": {
			policies: authzHeader0 + "  {name: a, namespace: foo}\nspec: {rules: [{}]}\n", req: get, wantAllow: true,
		},
		"policy of other namespace does not apply": {
			policies: authzHeader0 + "  {name: a, namespace: bar}\nspec: {}\n", req: get, wantAllow: true,
		},
		"root namespace selector applies": {
			policies: authzHeader0 + "  {name: a, namespace: istio-system}\nspec: {selector: {matchLabels: {app: httpbin}}}\n", req: get,
		},
		"deny without rules is ignored": {
			policies: authzHeader0 + "  {name: d, namespace: foo}\nspec: {action: DENY}\n", req: get, wantAllow: true,
			problems: []string{"DENY action without `rules` is meaningless"},
		},
		"deny empty rule denies": {
			policies: authzHeader0 + "  {name: d, namespace: foo}\nspec: {action: DENY, rules: [{}]}\n", req: get,
			wantPolicy: "ns[foo]-policy[d]-rule[0]",
		},
		"deny by namespace": {
			policies: authzHeader0 + "  {name: d, namespace: foo}\nspec: {action: DENY, rules: [{from: [{source: {namespaces: [dev]}}]}]}\n",
			req:      get, wantPolicy: "ns[foo]-policy[d]-rule[0]",
		},
		"deny notPrincipals star refuses plaintext": {
			policies: authzHeader0 + "  {name: d, namespace: foo}\nspec: {action: DENY, rules: [{from: [{source: {notPrincipals: ['*']}}]}]}\n",
			req:      &plain, wantPolicy: "ns[foo]-policy[d]-rule[0]",
		},
		"allow principal expands cluster.local": {
			policies: authzHeader0 + "  {name: a, namespace: foo}\nspec: {rules: [{from: [{source: {principals: [cluster.local/ns/dev/sa/client]}}]}]}\n",
			req:      get, wantAllow: true,
		},
		"allow with unknown key matches nothing": {
			policies: authzHeader0 + "  {name: a, namespace: foo}\nspec: {rules: [{when: [{key: request.bogus, values: [x]}]}]}\n",
			req:      get, problems: []string{"unknown attribute: request.bogus: the ALLOW rule matches nothing"},
		},
		"deny with unknown key widens": {
			policies: authzHeader0 + "  {name: d, namespace: foo}\nspec: {action: DENY, rules: [{to: [{operation: {paths: [/admin]}}], when: [{key: bogus, values: [x]}]}]}\n",
			req:      get, wantAllow: true, problems: []string{"unknown attribute: bogus: ignored, so the DENY rule applies more widely"},
		},
		"deny with unknown key still denies its path": {
			policies: authzHeader0 + "  {name: d, namespace: foo}\nspec: {action: DENY, rules: [{to: [{operation: {paths: [/admin]}}], when: [{key: bogus, values: [x]}]}]}\n",
			req:      &admin, wantPolicy: "ns[foo]-policy[d]-rule[0]", problems: []string{"unknown attribute"},
		},
		"deny with one bad CIDR drops the whole field": {
			policies: authzHeader0 + "  {name: d, namespace: foo}\nspec: {action: DENY, rules: [{from: [{source: {ipBlocks: [10.9.0.0/16, 1.2.3.4/99]}}]}]}\n",
			req:      get, wantPolicy: "ns[foo]-policy[d]-rule[0]", problems: []string{"bad CIDR range (1.2.3.4/99)"},
		},
		"dry-run allow enforces nothing": {
			policies: authzHeader0 + "  {name: a, namespace: foo, annotations: {istio.io/dry-run: 'true'}}\nspec: {}\n", req: get, wantAllow: true,
		},
		"unparsable dry-run is enforced": {
			policies: authzHeader0 + "  {name: a, namespace: foo, annotations: {istio.io/dry-run: 'yes'}}\nspec: {}\n", req: get,
			problems: []string{"must be a boolean, the policy is enforced"},
		},
		"custom with unknown provider denies": {
			policies:   authzHeader0 + "  {name: c, namespace: foo}\nspec: {action: CUSTOM, provider: {name: nope}, rules: [{to: [{operation: {paths: [/x]}}]}]}\n",
			req:        get,
			wantPolicy: "istio-ext-authz-nope-ns[foo]-policy[c]-rule[0]-deny-due-to-bad-CUSTOM-action",
			problems:   []string{`unknown CUSTOM provider "nope"`},
		},
		"custom with known provider leaves the decision to ext_authz": {
			policies:  authzHeader0 + "  {name: c, namespace: foo}\nspec: {action: CUSTOM, provider: {name: authz}, rules: [{to: [{operation: {paths: [/x]}}]}]}\n",
			providers: []ExtAuthzProvider{{Name: "authz", EnvoyExtAuthzHTTP: &ExtAuthzHTTPProvider{Service: "authz.foo.svc.cluster.local", Port: 8000}}},
			req:       get, wantAllow: true,
		},
		"custom with identity field denies instead": {
			policies:   authzHeader0 + "  {name: c, namespace: foo}\nspec: {action: CUSTOM, provider: {name: authz}, rules: [{from: [{source: {principals: [a/b]}}]}]}\n",
			providers:  []ExtAuthzProvider{{Name: "authz", EnvoyExtAuthzHTTP: &ExtAuthzHTTPProvider{Service: "authz", Port: 80}}},
			req:        get,
			wantPolicy: "istio-ext-authz-authz-ns[foo]-policy[c]-rule[0]-deny-due-to-bad-CUSTOM-action",
			problems:   []string{"not supported with CUSTOM action"},
		},
		"tcp: allow with methods gives no access": {
			policies: authzHeader0 + "  {name: a, namespace: foo}\nspec: {rules: [{to: [{operation: {methods: [GET]}}]}]}\n",
			tcp:      true, req: get, problems: []string{"the ALLOW rule matches no TCP connection"},
		},
		"tcp: deny with namespaces and methods refuses the namespace": {
			policies: authzHeader0 + "  {name: d, namespace: foo}\nspec: {action: DENY, rules: [{from: [{source: {namespaces: [dev]}}], to: [{operation: {methods: [GET]}}]}]}\n",
			tcp:      true, req: get, wantPolicy: "ns[foo]-policy[d]-rule[0]", problems: []string{"HTTP-only attribute on a TCP port"},
		},
		"tcp: deny notRequestPrincipals refuses every connection": {
			policies: authzHeader0 + "  {name: d, namespace: foo}\nspec: {action: DENY, rules: [{from: [{source: {notRequestPrincipals: ['*']}}]}]}\n",
			tcp:      true, req: get, wantPolicy: "ns[foo]-policy[d]-rule[0]", problems: []string{"HTTP-only attribute"},
		},
		"tcp: custom with HTTP provider denies": {
			policies:  authzHeader0 + "  {name: c, namespace: foo}\nspec: {action: CUSTOM, provider: {name: authz}, rules: [{to: [{operation: {ports: ['8000']}}]}]}\n",
			providers: []ExtAuthzProvider{{Name: "authz", EnvoyExtAuthzHTTP: &ExtAuthzHTTPProvider{Service: "authz", Port: 80}}},
			tcp:       true, req: get,
			wantPolicy: "istio-ext-authz-authz-ns[foo]-policy[c]-rule[0]-deny-due-to-bad-CUSTOM-action",
			problems:   []string{"is HTTP-only and cannot check TCP connections"},
		},
		"unknown action denies all": {
			policies: authzHeader0 + "  {name: u, namespace: foo}\nspec: {action: 7, rules: [{}]}\n", req: get,
			wantPolicy: "ns[foo]-policy[u]-rule[0]", problems: []string{"unknown action 7"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := authzInputs(t, tc.policies, tc.providers...)
			chainOf := authzHTTPChain
			if tc.tcp {
				chainOf = authzTCPChain
			}
			chain, problems := chainOf(t, in)
			got, err := explain.RBACChain(chain, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if got.Allowed != tc.wantAllow || got.Policy != tc.wantPolicy {
				t.Errorf("decision = %+v, want allowed=%v policy=%q", got, tc.wantAllow, tc.wantPolicy)
			}
			checkProblems(t, problems, tc.problems)
		})
	}
}

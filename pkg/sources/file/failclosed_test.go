package file

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	securityv1beta1 "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// TestStandInFailsClosed: a security policy that cannot be decoded is replaced by one that
// denies at least as much as the original could have, never by nothing.
func TestStandInFailsClosed(t *testing.T) {
	sel := &typev1beta1.WorkloadSelector{MatchLabels: map[string]string{"app": "httpbin"}}
	tests := map[string]struct {
		yaml string
		want any // *AuthorizationPolicy / *PeerAuthentication spec, or nil for no object
	}{
		"deny with a misspelt field denies everything it selects": {
			yaml: "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: ns}\n" +
				"spec:\n  selector: {matchLabels: {app: httpbin}}\n  action: DENY\n  rules:\n  - from: [{sorce: {}}]\n",
			want: &securityv1beta1.AuthorizationPolicy{Selector: sel, Action: securityv1beta1.AuthorizationPolicy_DENY, Rules: []*securityv1beta1.Rule{{}}},
		},
		"allow (default action) becomes an allow that matches nothing": {
			yaml: "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: ns}\n" +
				"spec:\n  selector: {matchLabels: {app: httpbin}}\n  rules:\n  - to: [{operation: {paths: 3}}]\n",
			want: &securityv1beta1.AuthorizationPolicy{Selector: sel, Action: securityv1beta1.AuthorizationPolicy_ALLOW},
		},
		"unreadable action and selector: namespace-wide deny": {
			yaml: "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: ns}\n" +
				"spec:\n  selector: {matchLabels: [x]}\n  action: [DENY]\n",
			want: &securityv1beta1.AuthorizationPolicy{Action: securityv1beta1.AuthorizationPolicy_DENY, Rules: []*securityv1beta1.Rule{{}}},
		},
		"audit is left out": {
			yaml: "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: ns}\n" +
				"spec:\n  action: AUDIT\n  bogus: 1\n",
		},
		"peer authentication becomes STRICT": {
			yaml: "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: ns}\n" +
				"spec:\n  selector: {matchLabels: {app: httpbin}}\n  mtls: {mode: PERMISIVE}\n",
			want: &securityv1beta1.PeerAuthentication{Selector: sel,
				Mtls: &securityv1beta1.PeerAuthentication_MutualTLS{Mode: securityv1beta1.PeerAuthentication_MutualTLS_STRICT}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs, problems := Decode("p.yaml", []byte(tc.yaml))
			if !model.HasErrors(problems) {
				t.Fatalf("no error reported: %v", problems)
			}
			var got any
			switch len(objs) {
			case 0:
			case 1:
				if objs[0].ObjectMeta().Annotations[StandInAnnotation] != "true" {
					t.Errorf("stand-in not annotated")
				}
				switch o := objs[0].(type) {
				case *model.AuthorizationPolicy:
					got = o.Spec
				case *model.PeerAuthentication:
					got = o.Spec
				}
			default:
				t.Fatalf("got %d objects", len(objs))
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("stand-in (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEnvoyFilesSkipped: an Envoy node or bootstrap beside the policies is not reported.
func TestEnvoyFilesSkipped(t *testing.T) {
	for _, doc := range []string{
		"id: gw-1\ncluster: gw\nmetadata: {role: gateway}\n",
		"node: {id: gw-1}\ndynamic_resources: {ads_config: {}}\n",
	} {
		objs, problems := Decode("node.yaml", []byte(doc))
		if len(objs) != 0 || len(problems) != 0 {
			t.Errorf("%q: objects %v, problems %v; want neither", doc, objs, problems)
		}
	}
}

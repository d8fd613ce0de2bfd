package file

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

func TestDecode(t *testing.T) {
	cases := map[string]struct {
		in           string
		wantObjs     []string // "Kind ns/name@line"
		wantProblems []string
	}{
		"two documents, default namespace": {
			in: `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt}
spec:
  jwtRules: [{issuer: a}]
---
---
apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata: {name: gw, namespace: ns}
spec: {servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]}
`,
			wantObjs: []string{"RequestAuthentication default/jwt@1", "Gateway ns/gw@8"},
		},
		"unknown field names its path and line": {
			in: `apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata: {name: jwt, namespace: ns}
spec:
  jwtRules:
  - issuer: a
    bogus: 1
`,
			wantProblems: []string{`f.yaml:7: RequestAuthentication ns/jwt: spec.jwtRules[0].bogus: unknown field "bogus"`},
		},
		"wrong type": {
			in: `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt}
spec:
  jwtRules:
  - issuer: 5
`,
			wantProblems: []string{`f.yaml:6: RequestAuthentication default/jwt: spec.jwtRules[0].issuer: invalid value 5: expected a string`},
		},
		"bad enum": {
			in: `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: pa}
spec:
  mtls:
    mode: STRICTEST
`,
			wantObjs:     []string{"PeerAuthentication default/pa@1"}, // the STRICT stand-in
			wantProblems: []string{`f.yaml:6: PeerAuthentication default/pa: spec.mtls.mode: invalid value "STRICTEST": expected one of UNSET, DISABLE, PERMISSIVE, STRICT; enforced as a fail-closed stand-in until fixed`},
		},
		"list expected": {
			in: `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs}
spec:
  hosts: a.example.com
`,
			wantProblems: []string{`f.yaml:5: VirtualService default/vs: spec.hosts: invalid value "a.example.com": expected a list`},
		},
		"bad map key": {
			in: `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: pa}
spec:
  selector: {matchLabels: {app: a}}
  portLevelMtls:
    http: {mode: STRICT}
`,
			wantObjs:     []string{"PeerAuthentication default/pa@1"}, // the STRICT stand-in
			wantProblems: []string{`f.yaml:7: PeerAuthentication default/pa: spec.portLevelMtls.http: invalid key "http": expected a non-negative integer; enforced as a fail-closed stand-in until fixed`},
		},
		"bad yaml keeps earlier documents": {
			in: `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ok}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: broken
  spec: [
`,
			wantObjs:     []string{"AuthorizationPolicy default/ok@1"},
			wantProblems: []string{"f.yaml:7: invalid YAML: did not find expected ',' or '}'"},
		},
		"rejected versions": {
			in: `apiVersion: security.istio.io/v1alpha1
kind: PeerAuthentication
metadata: {name: old}
---
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: older}
`,
			wantProblems: []string{
				"f.yaml:1: PeerAuthentication default/old: apiVersion: PeerAuthentication security.istio.io/v1alpha1 is not supported: use security.istio.io/v1 (authentication.istio.io and security.istio.io/v1alpha1 are no longer served by Istio)",
				"f.yaml:5: Policy default/older: apiVersion: Policy authentication.istio.io/v1alpha1 is not supported: use security.istio.io/v1 (authentication.istio.io and security.istio.io/v1alpha1 are no longer served by Istio)",
			},
		},
		"unknown kinds skipped": {
			in: `apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
---
apiVersion: security.istio.io/v1
kind: AuthorisationPolicy
metadata: {name: typo}
`,
			wantProblems: []string{
				"f.yaml:1: ConfigMap default/cm: kind: warning: kind ConfigMap (v1) is not read by this control plane; skipped",
				"f.yaml:5: Gateway default/gw: kind: warning: kind Gateway (gateway.networking.k8s.io/v1) is not read by this control plane; skipped",
				"f.yaml:9: AuthorisationPolicy default/typo: kind: kind AuthorisationPolicy (security.istio.io/v1) is not read by this control plane; skipped",
			},
		},
		"bad version of a known kind": {
			in:           "apiVersion: networking.istio.io/v2\nkind: DestinationRule\nmetadata: {name: dr}\n",
			wantProblems: []string{"f.yaml:1: DestinationRule default/dr: apiVersion: DestinationRule networking.istio.io/v2 is not supported: use networking.istio.io/v1 or networking.istio.io/v1beta1 or networking.istio.io/v1alpha3"},
		},
		"missing name and kind": {
			in: "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  namespace: x\n---\nmetadata: {name: a}\n---\n- a\n",
			wantProblems: []string{
				"f.yaml:4: AuthorizationPolicy: metadata.name: must not be empty",
				"f.yaml:6: apiVersion and kind must be set",
				"f.yaml:8: not a Kubernetes object: expected a mapping with apiVersion, kind, metadata and spec",
			},
		},
		"bad metadata": {
			in:           "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  labels: [a]\n",
			wantProblems: []string{"f.yaml:5: Secret: metadata: cannot unmarshal !!seq into map[string]string"},
		},
		"secrets": {
			in: `apiVersion: v1
kind: Secret
metadata: {name: tls}
type: kubernetes.io/tls
data: {tls.crt: Y2VydA==, tls.key: a2V5}
stringData: {tls.key: override}
---
apiVersion: v1
kind: Secret
metadata: {name: bad}
data:
  cert: "not base64!"
`,
			wantObjs:     []string{"Secret default/tls@1"},
			wantProblems: []string{"f.yaml:12: Secret default/bad: data.cert: must be base64-encoded"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			objs, problems := Decode("f.yaml", []byte(tc.in))
			var gotObjs, gotProblems []string
			for _, o := range objs {
				m := o.ObjectMeta()
				gotObjs = append(gotObjs, string(m.Kind)+" "+m.Key()+"@"+strings.TrimPrefix(m.Origin.String(), "f.yaml:"))
			}
			for _, p := range problems {
				gotProblems = append(gotProblems, p.String())
			}
			if diff := cmp.Diff(tc.wantObjs, gotObjs); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantProblems, gotProblems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeSecretData(t *testing.T) {
	objs, problems := Decode("s.yaml", []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: YQ==, b: Yg==}\nstringData: {b: B}\n"))
	if len(problems) != 0 || len(objs) != 1 {
		t.Fatalf("got %v, %v", objs, problems)
	}
	s := objs[0].(*model.Secret)
	want := map[string][]byte{"a": []byte("a"), "b": []byte("B")}
	if diff := cmp.Diff(want, s.Data); diff != "" || s.Type != "Opaque" {
		t.Errorf("type %q, data (-want +got):\n%s", s.Type, diff)
	}
}

func TestLineOf(t *testing.T) {
	src := `spec:
  servers:
  - port:
      number: 80
  portLevelMtls:
    8080:
      mode: STRICT
`
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]int{
		"spec.servers[0].port.number": 4,
		"spec.servers[0].tls.mode":    3, // missing: the deepest node found
		"spec.portLevelMtls[8080]":    6,
		"spec.servers[5]":             2,
		"metadata.name":               1,
	} {
		if got := lineOf(doc.Content[0], field); got != want {
			t.Errorf("lineOf(%q) = %d, want %d", field, got, want)
		}
	}
}

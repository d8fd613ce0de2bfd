package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1beta1 "istio.io/api/security/v1beta1"
	"sigs.k8s.io/yaml"
)

// object builds a named object of kind from a YAML spec.
func object(t *testing.T, kind Kind, ns, spec string) Object {
	t.Helper()
	meta := Meta{Kind: kind, Namespace: ns, Name: "x"}
	js, err := yaml.YAMLToJSON([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	unmarshal := func(m proto.Message) {
		t.Helper()
		if err := protojson.Unmarshal(js, m); err != nil {
			t.Fatalf("spec: %v", err)
		}
	}
	switch kind {
	case KindPeerAuthentication:
		s := &securityv1beta1.PeerAuthentication{}
		unmarshal(s)
		return &PeerAuthentication{Meta: meta, Spec: s}
	case KindGateway:
		s := &networkingv1alpha3.Gateway{}
		unmarshal(s)
		return &Gateway{Meta: meta, Spec: s}
	case KindVirtualService:
		s := &networkingv1alpha3.VirtualService{}
		unmarshal(s)
		return &VirtualService{Meta: meta, Spec: s}
	case KindDestinationRule:
		s := &networkingv1alpha3.DestinationRule{}
		unmarshal(s)
		return &DestinationRule{Meta: meta, Spec: s}
	case KindServiceEntry:
		s := &networkingv1alpha3.ServiceEntry{}
		unmarshal(s)
		return &ServiceEntry{Meta: meta, Spec: s}
	case KindWorkloadEntry:
		s := &networkingv1alpha3.WorkloadEntry{}
		unmarshal(s)
		return &WorkloadEntry{Meta: meta, Spec: s}
	}
	t.Fatalf("no kind %s", kind)
	return nil
}

type validateCase struct {
	kind Kind
	ns   string // default "default"
	spec string
	want []string // "field: reason" as Problem.String renders them after the object
}

func runValidateCases(t *testing.T, cases map[string]validateCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ns := tc.ns
			if ns == "" {
				ns = "default"
			}
			var got []string
			for _, p := range Validate(object(t, tc.kind, ns, tc.spec), Mesh{}) {
				s := p.Field + ": "
				if p.Severity == SeverityWarning {
					s += "warning: "
				}
				got = append(got, s+p.Reason)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidatePeerAuthentication(t *testing.T) {
	runValidateCases(t, map[string]validateCase{
		"valid workload policy": {kind: KindPeerAuthentication, spec: `
selector: {matchLabels: {app: a}}
mtls: {mode: STRICT}
portLevelMtls: {8080: {mode: DISABLE}}`},
		"port level without selector": {kind: KindPeerAuthentication, spec: `portLevelMtls: {8080: {mode: DISABLE}}`,
			want: []string{"spec.portLevelMtls: mesh/namespace peer authentication cannot have port level mTLS"}},
		"empty port level map": {kind: KindPeerAuthentication, spec: `{selector: {matchLabels: {app: a}}, portLevelMtls: {}}`,
			want: []string{"spec.portLevelMtls: port level mTLS, if defined, must have at least one element"}},
		"port out of range": {kind: KindPeerAuthentication, spec: `{selector: {matchLabels: {app: a}}, portLevelMtls: {0: {mode: STRICT}, 70000: {mode: STRICT}}}`,
			want: []string{
				"spec.portLevelMtls[0]: port must be in range 1..65535",
				"spec.portLevelMtls[70000]: port must be in range 1..65535",
			}},
		"selector in root namespace": {kind: KindPeerAuthentication, ns: "istio-system", spec: `selector: {matchLabels: {app: a}}`,
			want: []string{"spec.selector: warning: a peer authentication with a selector in the root namespace is ignored; move it to the workload's namespace or remove the selector"}},
		"wildcard selector": {kind: KindPeerAuthentication, spec: `selector: {matchLabels: {app: "*"}}`,
			want: []string{"spec.selector.matchLabels.app: wildcard is not supported in selector"}},
	})
}

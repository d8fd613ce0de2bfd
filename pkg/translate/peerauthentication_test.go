package translate

import (
	"testing"
	"time"

	securityv1beta1 "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

func pa(ns, name string, created int, sel map[string]string, mode mtlsMode, ports map[uint32]mtlsMode) model.Object {
	spec := &securityv1beta1.PeerAuthentication{}
	if sel != nil {
		spec.Selector = &typev1beta1.WorkloadSelector{MatchLabels: sel}
	}
	if mode != mtlsUnset {
		spec.Mtls = &securityv1beta1.PeerAuthentication_MutualTLS{Mode: mode}
	}
	for p, m := range ports {
		if spec.PortLevelMtls == nil {
			spec.PortLevelMtls = map[uint32]*securityv1beta1.PeerAuthentication_MutualTLS{}
		}
		spec.PortLevelMtls[p] = &securityv1beta1.PeerAuthentication_MutualTLS{Mode: m}
	}
	return &model.PeerAuthentication{Meta: model.Meta{
		Kind: model.KindPeerAuthentication, Namespace: ns, Name: name,
		CreationTimestamp: time.Date(2026, 1, created, 0, 0, 0, 0, time.UTC),
	}, Spec: spec}
}

func TestPeerAuthnFor(t *testing.T) {
	t.Parallel()
	app := map[string]string{"app": "a"}
	tests := map[string]struct {
		objs         []model.Object
		port         uint32
		want         mtlsMode
		wantProblems int
	}{
		"nothing: PERMISSIVE": {want: mtlsPermissive},
		"mesh UNSET: PERMISSIVE": {
			objs: []model.Object{pa("istio-system", "m", 1, nil, mtlsUnset, nil)}, want: mtlsPermissive},
		"mesh STRICT inherited": {
			objs: []model.Object{pa("istio-system", "m", 1, nil, mtlsStrict, nil)}, want: mtlsStrict},
		"namespace overrides mesh": {
			objs: []model.Object{pa("istio-system", "m", 1, nil, mtlsStrict, nil), pa("ns", "n", 1, nil, mtlsDisable, nil)},
			want: mtlsDisable},
		"oldest namespace policy wins, other reported": {
			objs: []model.Object{pa("ns", "a-new", 2, nil, mtlsDisable, nil), pa("ns", "b-old", 1, nil, mtlsStrict, nil)},
			want: mtlsStrict, wantProblems: 1},
		"workload UNSET inherits namespace": {
			objs: []model.Object{pa("ns", "n", 1, nil, mtlsStrict, nil), pa("ns", "w", 1, app, mtlsUnset, nil)},
			want: mtlsStrict},
		"port level wins on its port": {
			objs: []model.Object{pa("ns", "w", 1, app, mtlsStrict, map[uint32]mtlsMode{8080: mtlsDisable})},
			port: 8080, want: mtlsDisable},
		"port level does not apply to other ports": {
			objs: []model.Object{pa("ns", "w", 1, app, mtlsStrict, map[uint32]mtlsMode{8080: mtlsDisable})},
			port: 9090, want: mtlsStrict},
		"port level UNSET inherits workload": {
			objs: []model.Object{pa("ns", "w", 1, app, mtlsStrict, map[uint32]mtlsMode{8080: mtlsUnset})},
			port: 8080, want: mtlsStrict},
		"root namespace selector ignored with a warning": {
			objs: []model.Object{pa("istio-system", "r", 1, app, mtlsDisable, nil)},
			want: mtlsPermissive, wantProblems: 1},
		"selector not matching": {
			objs: []model.Object{pa("ns", "w", 1, map[string]string{"app": "b"}, mtlsDisable, nil)},
			want: mtlsPermissive},
		"other namespace does not apply": {
			objs: []model.Object{pa("other", "n", 1, nil, mtlsDisable, nil)}, want: mtlsPermissive},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := Inputs{Store: model.NewStore(model.Mesh{}, tc.objs)}
			got, problems := peerAuthnFor(in, "ns", app)
			if m := got.forPort(tc.port); m != tc.want {
				t.Errorf("mode = %v, want %v", m, tc.want)
			}
			if len(problems) != tc.wantProblems {
				t.Errorf("problems = %v, want %d", problems, tc.wantProblems)
			}
		})
	}
}

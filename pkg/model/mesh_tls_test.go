package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

func TestValidateMesh(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		in   string
		want []string
	}{
		"unset": {in: `{}`},
		"valid": {in: `
meshMTLS: {minProtocolVersion: TLSV1_3, cipherSuites: [ECDHE-ECDSA-AES128-GCM-SHA256]}
tlsDefaults: {minProtocolVersion: TLS_AUTO, ecdhCurves: [X25519, P-256], cipherSuites: [ALL, -AES128-SHA]}`},
		"unknown names": {in: `
meshMTLS: {minProtocolVersion: TLSV1_1, ecdhCurves: [P-256]}
tlsDefaults: {minProtocolVersion: tls1.3, ecdhCurves: [P-999, X25519, X25519], cipherSuites: [RC4-MD5, ""]}`,
			want: []string{
				"<unknown>: MeshConfig: meshMTLS.ecdhCurves: mesh TLS does not support ECDH curves configuration",
				`<unknown>: MeshConfig: meshMTLS.minProtocolVersion: unknown TLS version "TLSV1_1" (expected TLS_AUTO, TLSV1_2 or TLSV1_3)`,
				`<unknown>: MeshConfig: tlsDefaults.cipherSuites[0]: warning: unrecognized cipher suite "RC4-MD5" ignored`,
				`<unknown>: MeshConfig: tlsDefaults.cipherSuites[1]: warning: unrecognized cipher suite "" ignored`,
				`<unknown>: MeshConfig: tlsDefaults.ecdhCurves[0]: warning: unrecognized ECDH curve "P-999" ignored`,
				`<unknown>: MeshConfig: tlsDefaults.ecdhCurves[2]: warning: duplicate ECDH curve "X25519" ignored`,
				`<unknown>: MeshConfig: tlsDefaults.minProtocolVersion: unknown TLS version "tls1.3" (expected TLS_AUTO, TLSV1_2 or TLSV1_3)`,
			}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var m Mesh
			if err := yaml.UnmarshalStrict([]byte(tc.in), &m); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ValidateMesh(m, Origin{}) {
				got = append(got, p.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

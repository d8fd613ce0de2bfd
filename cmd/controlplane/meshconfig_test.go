package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadMeshConfig(t *testing.T) {
	tests := map[string]struct {
		yaml    string
		want    []string // provider names
		wantErr string
	}{
		"http and grpc providers": {
			yaml: "extensionProviders:\n- name: opa\n  envoyExtAuthzGrpc: {service: opa.foo.svc.cluster.local, port: 9191}\n" +
				"- name: oauth2\n  envoyExtAuthzHttp: {service: oauth2.foo.svc.cluster.local, port: 4180}\n",
			want: []string{"opa", "oauth2"},
		},
		"unknown field": {yaml: "extensionProviders:\n- name: x\n  envoyExtAuthzGrpc: {servce: a}\n", wantErr: "unknown field"},
		"no kind":       {yaml: "extensionProviders:\n- name: x\n", wantErr: "exactly one of"},
		"duplicate":     {yaml: "extensionProviders:\n- name: x\n  envoyExtAuthzGrpc: {service: a, port: 1}\n- name: x\n  envoyExtAuthzGrpc: {service: a, port: 1}\n", wantErr: "duplicate provider"},
		"nameless":      {yaml: "extensionProviders:\n- envoyExtAuthzGrpc: {service: a, port: 1}\n", wantErr: "name: must not be empty"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mesh.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			mc, _, err := readMeshConfig(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range mc.ExtensionProviders {
				names = append(names, p.Name)
			}
			if strings.Join(names, ",") != strings.Join(tc.want, ",") {
				t.Errorf("providers %v, want %v", names, tc.want)
			}
		})
	}
}

// TestReadMeshConfigTLS: meshMTLS and tlsDefaults reach the mesh; a version Istio would refuse
// is an error naming the file and field; an unknown cipher is a warning naming them.
func TestReadMeshConfigTLS(t *testing.T) {
	dir := t.TempDir()
	write := func(name, yaml string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good.yaml", "meshMTLS: {minProtocolVersion: TLSV1_3}\ntlsDefaults:\n  ecdhCurves: [P-256]\n  cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256, NOT-A-CIPHER]\n")
	f := meshFlags{meshConfigFile: good}
	problems, err := f.readSettings()
	if err != nil {
		t.Fatal(err)
	}
	m := f.mesh()
	if m.MeshMTLS.MinProtocolVersion != "TLSV1_3" || len(m.TLSDefaults.EcdhCurves) != 1 {
		t.Fatalf("mesh %+v: settings not read", m)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].String(), "good.yaml") ||
		!strings.Contains(problems[0].String(), "tlsDefaults.cipherSuites[1]") {
		t.Fatalf("problems %v, want one warning for tlsDefaults.cipherSuites[1] in good.yaml", problems)
	}
	bad := write("bad.yaml", "tlsDefaults: {minProtocolVersion: TLSV1_0}\n")
	f = meshFlags{meshConfigFile: bad}
	if _, err := f.readSettings(); err == nil || !strings.Contains(err.Error(), "bad.yaml") ||
		!strings.Contains(err.Error(), "tlsDefaults.minProtocolVersion") {
		t.Fatalf("error %v, want one naming bad.yaml and tlsDefaults.minProtocolVersion", err)
	}
}

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
			got, err := readMeshConfig(path)
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
			for _, p := range got {
				names = append(names, p.Name)
			}
			if strings.Join(names, ",") != strings.Join(tc.want, ",") {
				t.Errorf("providers %v, want %v", names, tc.want)
			}
		})
	}
}

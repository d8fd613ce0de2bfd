package main

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/plainenvoy/controlplane/pkg/translate"
)

// meshConfig is the part of Istio's MeshConfig this control plane reads from --mesh-config:
// the CUSTOM authorization providers, with MeshConfig's field names, so an Istio user's
// extensionProviders block can be pasted as is.
type meshConfig struct {
	ExtensionProviders []translate.ExtAuthzProvider `json:"extensionProviders"`
}

// readMeshConfig reads --mesh-config; an empty path means no providers.
func readMeshConfig(path string) ([]translate.ExtAuthzProvider, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read mesh config: %w", err)
	}
	var mc meshConfig
	if err := yaml.UnmarshalStrict(data, &mc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for i, p := range mc.ExtensionProviders {
		switch {
		case p.Name == "":
			return nil, fmt.Errorf("%s: extensionProviders[%d].name: must not be empty", path, i)
		case seen[p.Name]:
			return nil, fmt.Errorf("%s: extensionProviders[%d].name: duplicate provider %q", path, i, p.Name)
		case (p.EnvoyExtAuthzHTTP == nil) == (p.EnvoyExtAuthzGRPC == nil):
			return nil, fmt.Errorf("%s: extensionProviders[%d]: exactly one of envoyExtAuthzHttp or envoyExtAuthzGrpc must be set", path, i)
		}
		seen[p.Name] = true
	}
	return mc.ExtensionProviders, nil
}

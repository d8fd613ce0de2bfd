package main

import (
	"errors"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// meshConfig is the part of Istio's MeshConfig this control plane reads from --mesh-config,
// with MeshConfig's field names, so an Istio user's blocks can be pasted as they are: the
// CUSTOM authorization providers, and the TLS settings of mesh mTLS (meshMTLS) and of every
// other TLS context (tlsDefaults), see model.TLSConfig.
type meshConfig struct {
	ExtensionProviders []translate.ExtAuthzProvider `json:"extensionProviders"`
	MeshMTLS           model.TLSConfig              `json:"meshMTLS"`
	TLSDefaults        model.TLSConfig              `json:"tlsDefaults"`
}

// readMeshConfig reads --mesh-config; an empty path means none of its settings. A setting
// Istio would refuse (an unknown TLS version, say) is an error; names Envoy would not know are
// returned as warnings and left out of the configuration.
func readMeshConfig(path string) (meshConfig, []model.Problem, error) {
	if path == "" {
		return meshConfig{}, nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return meshConfig{}, nil, fmt.Errorf("read mesh config: %w", err)
	}
	var mc meshConfig
	if err := yaml.UnmarshalStrict(data, &mc); err != nil {
		return meshConfig{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := validateProviders(path, mc.ExtensionProviders); err != nil {
		return meshConfig{}, nil, err
	}
	problems := model.ValidateMesh(model.Mesh{MeshMTLS: mc.MeshMTLS, TLSDefaults: mc.TLSDefaults}, model.Origin{File: path})
	var errs []error
	for _, p := range problems {
		if p.Severity == model.SeverityError {
			errs = append(errs, errors.New(p.String()))
		}
	}
	if len(errs) > 0 {
		return meshConfig{}, nil, errors.Join(errs...)
	}
	return mc, problems, nil
}

func validateProviders(path string, providers []translate.ExtAuthzProvider) error {
	seen := map[string]bool{}
	for i, p := range providers {
		switch {
		case p.Name == "":
			return fmt.Errorf("%s: extensionProviders[%d].name: must not be empty", path, i)
		case seen[p.Name]:
			return fmt.Errorf("%s: extensionProviders[%d].name: duplicate provider %q", path, i, p.Name)
		case (p.EnvoyExtAuthzHTTP == nil) == (p.EnvoyExtAuthzGRPC == nil):
			return fmt.Errorf("%s: extensionProviders[%d]: exactly one of envoyExtAuthzHttp or envoyExtAuthzGrpc must be set", path, i)
		}
		seen[p.Name] = true
	}
	return nil
}

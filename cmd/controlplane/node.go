package main

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// readNode reads an Envoy node from a file holding either the node itself (id, cluster,
// metadata) or a whole Envoy bootstrap (its "node" key), in YAML or JSON.
func readNode(path string) (model.Proxy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return model.Proxy{}, fmt.Errorf("read node: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return model.Proxy{}, fmt.Errorf("%s: not YAML or JSON: %w", path, err)
	}
	if n, ok := doc["node"].(map[string]any); ok {
		doc = n
	}
	id, _ := doc["id"].(string)
	cluster, _ := doc["cluster"].(string)
	md, _ := doc["metadata"].(map[string]any)
	p, err := model.ProxyFromNode(id, cluster, md)
	if err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

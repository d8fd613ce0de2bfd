package file

import (
	"encoding/base64"

	"go.yaml.in/yaml/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// decodeSecret reads a Kubernetes Secret (kubernetes.io/tls, Opaque or any other type):
// data values are base64, stringData values are plain text and win over data, as the API
// server merges them. Secret values never appear in problems.
func decodeSecret(meta model.Meta, e envelope) docResult {
	s := &model.Secret{Meta: meta, Type: scalar(e.typ), Data: map[string][]byte{}}
	if s.Type == "" {
		s.Type = "Opaque"
	}
	fail := func(n *yaml.Node, field, reason string) docResult {
		p := model.ProblemFor(&meta, model.SeverityError, field, "%s", reason)
		p.Origin.Line = n.Line
		return docResult{problems: []model.Problem{p}}
	}
	for _, part := range []struct {
		name   string
		node   *yaml.Node
		base64 bool
	}{{"data", e.data, true}, {"stringData", e.stringData, false}} {
		if part.node == nil || part.node.ShortTag() == "!!null" {
			continue
		}
		if part.node.Kind != yaml.MappingNode {
			return fail(part.node, part.name, "expected a map of key to value")
		}
		for i := 0; i+1 < len(part.node.Content); i += 2 {
			k, v := part.node.Content[i].Value, part.node.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return fail(v, part.name+"."+k, "expected a string")
			}
			if !part.base64 {
				s.Data[k] = []byte(v.Value)
				continue
			}
			b, err := base64.StdEncoding.DecodeString(v.Value)
			if err != nil {
				return fail(v, part.name+"."+k, "must be base64-encoded")
			}
			s.Data[k] = b
		}
	}
	return docResult{obj: s}
}

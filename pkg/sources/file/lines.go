package file

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// validate runs model.Validate on objects decoded from the documents in nodes (same order)
// and points each problem at the line of its field, so `validate` output leads to it.
func validate(objs []model.Object, nodes []*yaml.Node, mesh model.Mesh) []model.Problem {
	var out []model.Problem
	for i, o := range objs {
		for _, p := range model.Validate(o, mesh) {
			if i < len(nodes) && p.Field != "" {
				if line := lineOf(nodes[i], p.Field); line > 0 {
					p.Origin.Line = line
				}
			}
			out = append(out, p)
		}
	}
	return out
}

// lineOf follows a field path such as "spec.servers[0].tls.mode" from a document node and
// returns the line of the deepest node it reaches.
func lineOf(n *yaml.Node, field string) int {
	line := n.Line
	for _, seg := range splitPath(field) {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		next, at := child(n, seg)
		if next == nil {
			break
		}
		n, line = next, at
	}
	return line
}

// child returns the node for one path segment, a mapping key (or a map's integer key
// written as an index, as in "portLevelMtls[8080]") or a sequence index, and the line to
// show for it: the key's line for a mapping entry, so a nested block points at its key.
func child(n *yaml.Node, seg string) (*yaml.Node, int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == seg {
				return n.Content[i+1], n.Content[i].Line
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], n.Content[i].Line
		}
	}
	return nil, 0
}

// splitPath splits "a.b[0].c" into a, b, 0, c.
func splitPath(field string) []string {
	var out []string
	for _, part := range strings.Split(field, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			out = append(out, name)
		}
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			out = append(out, idx)
			_, rest, _ = strings.Cut(after, "[")
		}
	}
	return out
}

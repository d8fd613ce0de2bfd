// Package render prints a proxy's Envoy resources as YAML or JSON, in the fixed order the
// golden files and `controlplane translate` use: listeners, routes, clusters, endpoints,
// secrets, then the problems found. Map keys are sorted, so equal resources print equal bytes.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// Document is the printed form of one proxy's configuration.
type Document struct {
	Listeners []json.RawMessage `json:"listeners"`
	Routes    []json.RawMessage `json:"routes"`
	Clusters  []json.RawMessage `json:"clusters"`
	Endpoints []json.RawMessage `json:"endpoints"`
	Secrets   []json.RawMessage `json:"secrets"`
	Problems  []string          `json:"problems"`
}

// NewDocument converts resources to their proto3 JSON form. Secrets print with their private
// key material redacted: rendering is for people and golden files, never for proxies.
func NewDocument(r translate.Resources, problems []model.Problem) (Document, error) {
	d := Document{
		Listeners: []json.RawMessage{}, Routes: []json.RawMessage{}, Clusters: []json.RawMessage{},
		Endpoints: []json.RawMessage{}, Secrets: []json.RawMessage{}, Problems: []string{},
	}
	var err error
	conv := func(dst *[]json.RawMessage, msgs []proto.Message) {
		for _, m := range msgs {
			if err != nil {
				return
			}
			var b []byte
			b, err = protojson.MarshalOptions{UseProtoNames: false}.Marshal(m)
			if err != nil {
				err = fmt.Errorf("render %s: %w", proto.MessageName(m), err)
				return
			}
			var compact bytes.Buffer
			if err = json.Compact(&compact, b); err != nil {
				return
			}
			*dst = append(*dst, compact.Bytes())
		}
	}
	conv(&d.Listeners, asMessages(r.Listeners))
	conv(&d.Routes, asMessages(r.Routes))
	conv(&d.Clusters, asMessages(r.Clusters))
	conv(&d.Endpoints, asMessages(r.Endpoints))
	conv(&d.Secrets, asMessages(redactSecrets(r)))
	for _, p := range problems {
		d.Problems = append(d.Problems, p.String())
	}
	return d, err
}

// YAML prints the resources as one YAML document with a key per resource type, in the fixed
// order listeners, routes, clusters, endpoints, secrets, problems.
func YAML(r translate.Resources, problems []model.Problem) ([]byte, error) {
	d, err := NewDocument(r, problems)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for _, section := range []struct {
		key   string
		value any
	}{
		{"listeners", d.Listeners}, {"routes", d.Routes}, {"clusters", d.Clusters},
		{"endpoints", d.Endpoints}, {"secrets", d.Secrets}, {"problems", d.Problems},
	} {
		js, err := json.Marshal(map[string]any{section.key: section.value})
		if err != nil {
			return nil, err
		}
		y, err := yaml.JSONToYAML(js)
		if err != nil {
			return nil, err
		}
		out.Write(y)
	}
	return out.Bytes(), nil
}

// JSON prints the resources as indented JSON with sorted keys.
func JSON(r translate.Resources, problems []model.Problem) ([]byte, error) {
	d, err := NewDocument(r, problems)
	if err != nil {
		return nil, err
	}
	js, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	// Round-trip through a generic value so every object's keys come out sorted.
	var v any
	if err := json.Unmarshal(js, &v); err != nil {
		return nil, err
	}
	return json.MarshalIndent(v, "", "  ")
}

func asMessages[T proto.Message](xs []T) []proto.Message {
	out := make([]proto.Message, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

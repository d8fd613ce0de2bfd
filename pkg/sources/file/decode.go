package file

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1beta1 "istio.io/api/security/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// document is the Kubernetes envelope of one YAML document.
type document struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   metadata        `json:"metadata"`
	Spec       json.RawMessage `json:"spec"`
	// Secret fields.
	Type       string            `json:"type"`
	Data       map[string]string `json:"data"`
	StringData map[string]string `json:"stringData"`
}

type metadata struct {
	Name              string            `json:"name"`
	Namespace         string            `json:"namespace"`
	Labels            map[string]string `json:"labels"`
	Annotations       map[string]string `json:"annotations"`
	CreationTimestamp string            `json:"creationTimestamp"`
}

// Decode parses every YAML document in data (the contents of file name) into model objects.
// Documents that cannot be used are reported as problems and left out; the rest are returned.
// Namespace defaults to "default" as kubectl does.
func Decode(name string, data []byte) ([]model.Object, []model.Problem) {
	var objs []model.Object
	var problems []model.Problem
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, model.Problem{Origin: model.Origin{File: name}, Reason: "invalid YAML: " + err.Error()})
			break
		}
		if len(node.Content) == 0 || node.Content[0].Kind == yaml.ScalarNode && node.Content[0].Tag == "!!null" {
			continue // empty document
		}
		origin := model.Origin{File: name, Line: node.Line}
		obj, ps := decodeDocument(origin, &node)
		problems = append(problems, ps...)
		if obj != nil {
			objs = append(objs, obj)
		}
	}
	return objs, problems
}

func decodeDocument(origin model.Origin, node *yaml.Node) (model.Object, []model.Problem) {
	fail := func(m *model.Meta, field, format string, args ...any) []model.Problem {
		p := model.Problem{Origin: origin, Field: field, Reason: fmt.Sprintf(format, args...)}
		if m != nil {
			p.Kind, p.Namespace, p.Name = m.Kind, m.Namespace, m.Name
		}
		return []model.Problem{p}
	}
	var raw any
	if err := node.Decode(&raw); err != nil {
		return nil, fail(nil, "", "invalid YAML: %v", err)
	}
	js, err := json.Marshal(raw)
	if err != nil {
		return nil, fail(nil, "", "document is not representable as JSON: %v", err)
	}
	var doc document
	if err := json.Unmarshal(js, &doc); err != nil {
		return nil, fail(nil, "", "not a Kubernetes object: %v", err)
	}
	meta := model.Meta{
		Kind: model.Kind(doc.Kind), APIVersion: doc.APIVersion,
		Namespace: doc.Metadata.Namespace, Name: doc.Metadata.Name,
		Labels: doc.Metadata.Labels, Annotations: doc.Metadata.Annotations, Origin: origin,
	}
	if meta.Namespace == "" {
		meta.Namespace = "default"
	}
	if doc.Metadata.CreationTimestamp != "" {
		t, err := time.Parse(time.RFC3339, doc.Metadata.CreationTimestamp)
		if err != nil {
			return nil, fail(&meta, "metadata.creationTimestamp", "must be an RFC 3339 time: %v", err)
		}
		meta.CreationTimestamp = t
	}
	if doc.Kind == "" || doc.APIVersion == "" {
		return nil, fail(&meta, "", "apiVersion and kind must be set")
	}
	newSpec, ok := specFor(doc.APIVersion, meta.Kind)
	if !ok {
		return nil, fail(&meta, "apiVersion", "unsupported kind %s in %s", doc.Kind, doc.APIVersion)
	}
	if meta.Kind == model.KindSecret {
		return decodeSecret(meta, doc)
	}
	spec := newSpec()
	if len(doc.Spec) > 0 && string(doc.Spec) != "null" {
		if err := protojson.Unmarshal(doc.Spec, spec); err != nil {
			return nil, fail(&meta, "spec", "%s", strings.ReplaceAll(err.Error(), "\u00a0", " "))
		}
	}
	return wrap(meta, spec), nil
}

func decodeSecret(meta model.Meta, doc document) (model.Object, []model.Problem) {
	s := &model.Secret{Meta: meta, Type: doc.Type, Data: map[string][]byte{}}
	for k, v := range doc.Data {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, []model.Problem{model.ProblemFor(&meta, model.SeverityError, "data."+k, "must be base64: %v", err)}
		}
		s.Data[k] = b
	}
	for k, v := range doc.StringData {
		s.Data[k] = []byte(v)
	}
	return s, nil
}

// specFor returns a constructor for the spec message of a kind in an API version.
func specFor(apiVersion string, kind model.Kind) (func() proto.Message, bool) {
	group, _, _ := strings.Cut(apiVersion, "/")
	switch {
	case apiVersion == "v1" && kind == model.KindSecret:
		return nil, true
	case apiVersion == "security.istio.io/v1" || apiVersion == "security.istio.io/v1beta1":
		switch kind {
		case model.KindRequestAuthentication:
			return func() proto.Message { return &securityv1beta1.RequestAuthentication{} }, true
		case model.KindAuthorizationPolicy:
			return func() proto.Message { return &securityv1beta1.AuthorizationPolicy{} }, true
		case model.KindPeerAuthentication:
			return func() proto.Message { return &securityv1beta1.PeerAuthentication{} }, true
		}
	case group == "networking.istio.io" && (apiVersion == "networking.istio.io/v1" ||
		apiVersion == "networking.istio.io/v1beta1" || apiVersion == "networking.istio.io/v1alpha3"):
		switch kind {
		case model.KindGateway:
			return func() proto.Message { return &networkingv1alpha3.Gateway{} }, true
		case model.KindVirtualService:
			return func() proto.Message { return &networkingv1alpha3.VirtualService{} }, true
		case model.KindDestinationRule:
			return func() proto.Message { return &networkingv1alpha3.DestinationRule{} }, true
		case model.KindServiceEntry:
			return func() proto.Message { return &networkingv1alpha3.ServiceEntry{} }, true
		case model.KindWorkloadEntry:
			return func() proto.Message { return &networkingv1alpha3.WorkloadEntry{} }, true
		}
	}
	return nil, false
}

func wrap(meta model.Meta, spec proto.Message) model.Object {
	switch s := spec.(type) {
	case *securityv1beta1.RequestAuthentication:
		return &model.RequestAuthentication{Meta: meta, Spec: s}
	case *securityv1beta1.AuthorizationPolicy:
		return &model.AuthorizationPolicy{Meta: meta, Spec: s}
	case *securityv1beta1.PeerAuthentication:
		return &model.PeerAuthentication{Meta: meta, Spec: s}
	case *networkingv1alpha3.Gateway:
		return &model.Gateway{Meta: meta, Spec: s}
	case *networkingv1alpha3.VirtualService:
		return &model.VirtualService{Meta: meta, Spec: s}
	case *networkingv1alpha3.DestinationRule:
		return &model.DestinationRule{Meta: meta, Spec: s}
	case *networkingv1alpha3.ServiceEntry:
		return &model.ServiceEntry{Meta: meta, Spec: s}
	case *networkingv1alpha3.WorkloadEntry:
		return &model.WorkloadEntry{Meta: meta, Spec: s}
	}
	panic(fmt.Sprintf("file: no model type for %T", spec))
}

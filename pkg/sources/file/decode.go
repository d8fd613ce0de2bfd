package file

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// fileResult is what one file decodes to.
type fileResult struct {
	objs     []model.Object
	nodes    []*yaml.Node // the document of each object, for problem lines
	problems []model.Problem
	// skipped holds the problems about documents of kinds we do not read; the watcher
	// reports each (file, kind) once instead of on every reload.
	skipped []model.Problem
	// failed is set when the YAML is broken or a document of a kind we read cannot be used:
	// the watcher then keeps the file's last good content rather than dropping objects.
	failed bool
}

// Decode parses every YAML document in data (the contents of file name) into model objects.
// Documents that cannot be used are reported as problems and left out; the rest are returned.
// Namespace defaults to "default" as kubectl does, and Meta.Order is the object's position
// among those returned. Problems point at the offending field's line where the YAML gives
// one, else at the document's first line.
func Decode(name string, data []byte) ([]model.Object, []model.Problem) {
	r := decodeFile(name, data)
	return r.objs, model.SortProblems(append(r.problems, r.skipped...))
}

var (
	yamlLine          = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)
	yamlParserProblem = regexp.MustCompile(`^did not find expected (',' or|'-' indicator|<document start>|key|node content)|^found (duplicate|incompatible|undefined)`)
	yamlErrorLine     = regexp.MustCompile(`^line (\d+): `)
)

func decodeFile(name string, data []byte) fileResult {
	var r fileResult
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The parser cannot resynchronise after a syntax error: the rest of the file is lost.
			r.failed = true
			r.problems = append(r.problems, yamlProblem(name, err))
			break
		}
		if len(doc.Content) == 0 || doc.Content[0].ShortTag() == "!!null" {
			continue // empty document, e.g. a leading or trailing "---"
		}
		if isEnvoyDocument(doc.Content[0]) {
			continue // an Envoy node or bootstrap kept beside the policies: not ours to read
		}
		d := decodeDocument(model.Origin{File: name, Line: doc.Content[0].Line}, doc.Content[0])
		switch {
		case d.skipped:
			r.skipped = append(r.skipped, d.problems...)
			continue
		case d.obj == nil:
			r.failed = true
		case d.standIn:
			// Used only if the file has no last good content (see state.update).
			r.failed = true
			fallthrough
		default:
			d.obj.ObjectMeta().Order = len(r.objs) // position in the file; Source renumbers across files
			r.objs = append(r.objs, d.obj)
			r.nodes = append(r.nodes, doc.Content[0])
		}
		r.problems = append(r.problems, d.problems...)
	}
	return r
}

func yamlProblem(name string, err error) model.Problem {
	p := model.Problem{Origin: model.Origin{File: name}}
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		p.Origin.Line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	if yamlParserProblem.MatchString(msg) {
		// yaml.v3 prints the parser's 0-based line of the construct being parsed (its
		// scanner errors are 1-based already).
		p.Origin.Line++
	}
	p.Reason = "invalid YAML: " + msg
	return p
}

type docResult struct {
	obj      model.Object
	problems []model.Problem
	skipped  bool // a kind we do not read
	standIn  bool // obj is a fail-closed stand-in for an undecodable policy
}

// envelope holds the top-level nodes of a Kubernetes object.
type envelope struct {
	apiVersion, kind, metadata, spec, typ, data, stringData *yaml.Node
}

func readEnvelope(n *yaml.Node) envelope {
	var e envelope
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := n.Content[i+1]
		switch n.Content[i].Value {
		case "apiVersion":
			e.apiVersion = v
		case "kind":
			e.kind = v
		case "metadata":
			e.metadata = v
		case "spec":
			e.spec = v
		case "type":
			e.typ = v
		case "data":
			e.data = v
		case "stringData":
			e.stringData = v
		}
	}
	return e
}

func decodeDocument(origin model.Origin, n *yaml.Node) docResult {
	meta := model.Meta{Origin: origin}
	fail := func(at *yaml.Node, field, format string, args ...any) docResult {
		p := model.ProblemFor(&meta, model.SeverityError, field, format, args...)
		if at != nil {
			p.Origin.Line = at.Line
		}
		return docResult{problems: []model.Problem{p}}
	}
	if n.Kind != yaml.MappingNode {
		return fail(nil, "", "not a Kubernetes object: expected a mapping with apiVersion, kind, metadata and spec")
	}
	e := readEnvelope(n)
	meta.APIVersion, meta.Kind = scalar(e.apiVersion), model.Kind(scalar(e.kind))
	if meta.APIVersion == "" || meta.Kind == "" {
		return fail(nil, "", "apiVersion and kind must be set")
	}
	if r, ok := decodeMetadata(&meta, e.metadata); !ok {
		return r
	}
	spec, support := specFor(meta.APIVersion, meta.Kind)
	switch support {
	case kindRejected:
		return fail(e.apiVersion, "apiVersion", "%s %s is not supported: use security.istio.io/v1 "+
			"(authentication.istio.io and security.istio.io/v1alpha1 are no longer served by Istio)", meta.Kind, meta.APIVersion)
	case kindBadVersion:
		return fail(e.apiVersion, "apiVersion", "%s %s is not supported: %s", meta.Kind, meta.APIVersion, supportedVersions(meta.Kind))
	case kindUnknown:
		sev := model.SeverityWarning
		if strings.HasPrefix(meta.APIVersion, "security.istio.io/") {
			// Every security kind Istio has is read; an unknown one is most likely a
			// misspelt policy, which must not pass quietly.
			sev = model.SeverityError
		}
		p := model.ProblemFor(&meta, sev, "kind", "kind %s (%s) is not read by this control plane; skipped", meta.Kind, meta.APIVersion)
		return docResult{problems: []model.Problem{p}, skipped: true}
	}
	if meta.Name == "" {
		return fail(e.metadata, "metadata.name", "must not be empty")
	}
	if meta.Kind == model.KindSecret {
		return decodeSecret(meta, e)
	}
	if e.spec != nil && e.spec.ShortTag() != "!!null" {
		w := jsonWriter{buf: make([]byte, 0, 256)}
		w.value(e.spec)
		if err := protojson.Unmarshal(w.buf, spec); err != nil {
			se := explainSpecError(err, e.spec, spec)
			p := model.ProblemFor(&meta, model.SeverityError, se.path, "%s", se.reason)
			p.Origin.Line = se.line
			if obj := standIn(meta, e.spec); obj != nil {
				p.Reason += "; enforced as a fail-closed stand-in until fixed"
				return docResult{obj: obj, problems: []model.Problem{p}, standIn: true}
			}
			return docResult{problems: []model.Problem{p}}
		}
	}
	return docResult{obj: wrap(meta, spec)}
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

type metadata struct {
	Name              string            `yaml:"name"`
	Namespace         string            `yaml:"namespace"`
	Labels            map[string]string `yaml:"labels"`
	Annotations       map[string]string `yaml:"annotations"`
	CreationTimestamp string            `yaml:"creationTimestamp"`
}

// decodeMetadata fills meta from the metadata node; ok is false with the problem to return.
func decodeMetadata(meta *model.Meta, n *yaml.Node) (docResult, bool) {
	var md metadata
	if n != nil {
		if err := n.Decode(&md); err != nil {
			line, reason := yamlTypeReason(err)
			p := model.ProblemFor(meta, model.SeverityError, "metadata", "%s", reason)
			p.Origin.Line = cmp.Or(line, n.Line)
			return docResult{problems: []model.Problem{p}}, false
		}
	}
	meta.Name, meta.Namespace = md.Name, md.Namespace
	meta.Labels, meta.Annotations = md.Labels, md.Annotations
	if meta.Namespace == "" {
		meta.Namespace = "default"
	}
	if md.CreationTimestamp != "" {
		t, err := time.Parse(time.RFC3339, md.CreationTimestamp)
		if err != nil {
			p := model.ProblemFor(meta, model.SeverityError, "metadata.creationTimestamp", "must be an RFC 3339 time such as 2024-01-02T15:04:05Z")
			p.Origin.Line = n.Line
			return docResult{problems: []model.Problem{p}}, false
		}
		meta.CreationTimestamp = t
	}
	return docResult{}, true
}

// yamlTypeReason turns yaml.v3's "yaml: unmarshal errors:\n  line 3: cannot unmarshal ..."
// into the line of the first error and a one-line reason.
func yamlTypeReason(err error) (int, string) {
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		return 0, strings.TrimPrefix(err.Error(), "yaml: ")
	}
	line := 0
	reasons := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		if m := yamlErrorLine.FindStringSubmatch(e); m != nil {
			if line == 0 {
				line, _ = strconv.Atoi(m[1])
			}
			e = e[len(m[0]):]
		}
		reasons[i] = e
	}
	return line, strings.Join(reasons, "; ")
}

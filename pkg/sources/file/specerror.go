package file

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// protojson's messages carry a randomly chosen space or no-break space and change wording
// between releases, so only the position and the broad class are taken from them; the
// reason is rebuilt from the message descriptor.
var (
	protoPos       = regexp.MustCompile(`\(line (\d+):(\d+)\)`)
	protoUnknown   = regexp.MustCompile(`unknown field`)
	protoDuplicate = regexp.MustCompile(`duplicate field|already set`)
	protoKey       = regexp.MustCompile(`\bkey\b`)
)

// specError locates a protojson error in the YAML spec node and explains it.
type specError struct {
	path   string // "spec.jwtRules[0].bogus"
	line   int
	reason string
}

func explainSpecError(err error, spec *yaml.Node, msg proto.Message) specError {
	text := strings.ReplaceAll(err.Error(), "\u00a0", " ")
	out := specError{path: "spec", line: spec.Line, reason: cleanProtoText(text)}
	m := protoPos.FindStringSubmatch(text)
	if m == nil {
		return out
	}
	col, _ := strconv.Atoi(m[2])
	var marks []mark
	w := jsonWriter{marks: &marks}
	w.value(spec)
	i := sort.Search(len(marks), func(i int) bool { return marks[i].off > col-1 }) - 1
	if i < 0 {
		return out
	}
	at := marks[i]
	out.path, out.line = renderPath(at.path), at.node.Line
	fd, ok := fieldAt(msg.ProtoReflect().Descriptor(), at.path)
	switch {
	case protoUnknown.MatchString(text):
		out.reason = "unknown field " + strconv.Quote(lastKey(at.path))
	case protoDuplicate.MatchString(text):
		out.reason = "set more than once (or together with another field of the same oneof)"
	case protoKey.MatchString(text) && at.key:
		if mfd, ok := fieldAt(msg.ProtoReflect().Descriptor(), at.path[:len(at.path)-1]); ok && mfd.IsMap() {
			out.reason = "invalid key " + strconv.Quote(at.node.Value) + ": expected " + expected(mfd.MapKey(), false)
		}
	case ok:
		out.reason = "invalid value " + shown(at.node) + ": expected " + expected(fd, len(at.path) > 0 && isIndex(at.path[len(at.path)-1]))
	}
	return out
}

// cleanProtoText drops protojson's "proto: (line 1:2): " prefix.
func cleanProtoText(s string) string {
	s = strings.TrimPrefix(s, "proto:")
	if i := strings.Index(s, "): "); i >= 0 {
		s = s[i+3:]
	}
	return strings.TrimSpace(s)
}

// fieldAt follows path (JSON names, list indexes, map keys) from md to the field it ends in.
func fieldAt(md protoreflect.MessageDescriptor, path []any) (protoreflect.FieldDescriptor, bool) {
	var fd protoreflect.FieldDescriptor
	for i := 0; i < len(path); i++ {
		if fd != nil {
			switch {
			case fd.IsList() && isIndex(path[i]) && i == len(path)-1:
				return fd, true
			case fd.IsList() && isIndex(path[i]):
				continue
			case fd.IsMap() && i == len(path)-1:
				return fd.MapValue(), true
			case fd.IsMap():
				fd = fd.MapValue()
				continue
			}
			if fd.Message() == nil {
				return nil, false
			}
			md = fd.Message()
		}
		name, ok := path[i].(string)
		if !ok {
			return nil, false
		}
		if fd = md.Fields().ByJSONName(name); fd == nil {
			if fd = md.Fields().ByTextName(name); fd == nil {
				return nil, false
			}
		}
	}
	return fd, fd != nil
}

// expected describes what JSON a field takes; element is true for one item of a list.
func expected(fd protoreflect.FieldDescriptor, element bool) string {
	switch {
	case fd.IsList() && !element:
		return "a list"
	case fd.IsMap():
		return "a map"
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		return "a string"
	case protoreflect.BoolKind:
		return "true or false"
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return "a number"
	case protoreflect.BytesKind:
		return "base64-encoded bytes"
	case protoreflect.EnumKind:
		return "one of " + enumNames(fd.Enum())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return messageShape(fd.Message())
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		return "a non-negative integer"
	}
	return "an integer"
}

func messageShape(md protoreflect.MessageDescriptor) string {
	switch md.FullName() {
	case "google.protobuf.Duration":
		return `a duration such as "1.5s"`
	case "google.protobuf.BoolValue":
		return "true or false"
	case "google.protobuf.StringValue":
		return "a string"
	case "google.protobuf.UInt32Value", "google.protobuf.UInt64Value":
		return "a non-negative integer"
	case "google.protobuf.Int32Value", "google.protobuf.Int64Value":
		return "an integer"
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue":
		return "a number"
	case "google.protobuf.Struct", "google.protobuf.Value":
		return "any value"
	}
	return "an object"
}

func enumNames(ed protoreflect.EnumDescriptor) string {
	vals := ed.Values()
	names := make([]string, vals.Len())
	for i := range names {
		names[i] = string(vals.Get(i).Name())
	}
	return strings.Join(names, ", ")
}

func shown(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "(a map)"
	case yaml.SequenceNode:
		return "(a list)"
	}
	if n.ShortTag() == "!!str" {
		return strconv.Quote(n.Value)
	}
	return n.Value
}

func isIndex(p any) bool { _, ok := p.(int); return ok }

func lastKey(path []any) string {
	for i := len(path) - 1; i >= 0; i-- {
		if s, ok := path[i].(string); ok {
			return s
		}
	}
	return ""
}

// renderPath renders a spec-relative path as "spec.a[0].b".
func renderPath(path []any) string {
	var b strings.Builder
	b.WriteString("spec")
	for _, p := range path {
		switch x := p.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(x) + "]")
		case string:
			b.WriteString("." + x)
		}
	}
	return b.String()
}

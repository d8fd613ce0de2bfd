package file

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// jsonWriter turns a yaml.v3 node tree into compact JSON for protojson. It writes only ASCII
// (escaping the rest), so protojson's error column is a byte offset into the output. When
// marks is non-nil it also records where each key and value starts, so an error offset can
// be mapped back to the field path and the YAML line; that second pass runs only on error.
type jsonWriter struct {
	buf   []byte
	marks *[]mark
	path  []any // string keys and int indexes, while recording
}

// mark says that the JSON from off onwards was written for node at path.
type mark struct {
	off  int
	path []any
	node *yaml.Node
	key  bool // the mark is at a mapping key
}

func (w *jsonWriter) mark(n *yaml.Node, key bool) {
	if w.marks != nil {
		*w.marks = append(*w.marks, mark{off: len(w.buf), path: append([]any(nil), w.path...), node: n, key: key})
	}
}

func (w *jsonWriter) value(n *yaml.Node) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	w.mark(n, false)
	switch n.Kind {
	case yaml.MappingNode:
		w.mapping(n)
	case yaml.SequenceNode:
		w.buf = append(w.buf, '[')
		for i, c := range n.Content {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.push(i)
			w.value(c)
			w.pop()
		}
		w.buf = append(w.buf, ']')
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			w.value(n.Content[0])
		}
	default:
		w.scalar(n)
	}
}

func (w *jsonWriter) mapping(n *yaml.Node) {
	w.buf = append(w.buf, '{')
	for i := 0; i+1 < len(n.Content); i += 2 {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		k := n.Content[i]
		w.push(k.Value)
		w.mark(k, true)
		w.str(k.Value)
		w.buf = append(w.buf, ':')
		w.value(n.Content[i+1])
		w.pop()
	}
	w.buf = append(w.buf, '}')
}

func (w *jsonWriter) push(p any) {
	if w.marks != nil {
		w.path = append(w.path, p)
	}
}

func (w *jsonWriter) pop() {
	if w.marks != nil {
		w.path = w.path[:len(w.path)-1]
	}
}

// scalar writes a YAML scalar as the JSON value its resolved tag implies, so `port: 80`
// is a number and `port: "80"` a string, as kubectl sends them to the API server.
func (w *jsonWriter) scalar(n *yaml.Node) {
	v := n.Value
	switch n.ShortTag() {
	case "!!null":
		w.buf = append(w.buf, "null"...)
	case "!!bool":
		b, _ := strconv.ParseBool(strings.ToLower(v))
		w.buf = strconv.AppendBool(w.buf, b)
	case "!!int":
		clean := strings.ReplaceAll(v, "_", "")
		if i, err := strconv.ParseInt(clean, 0, 64); err == nil {
			w.buf = strconv.AppendInt(w.buf, i, 10)
		} else if u, err := strconv.ParseUint(clean, 0, 64); err == nil {
			w.buf = strconv.AppendUint(w.buf, u, 10)
		} else {
			w.str(v)
		}
	case "!!float":
		w.float(v)
	default:
		w.str(v)
	}
}

func (w *jsonWriter) float(v string) {
	switch strings.ToLower(strings.TrimPrefix(v, "+")) {
	case ".inf":
		w.str("Infinity")
		return
	case "-.inf":
		w.str("-Infinity")
		return
	case ".nan":
		w.str("NaN")
		return
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64)
	if err != nil || math.IsInf(f, 0) {
		w.str(v)
		return
	}
	w.buf = strconv.AppendFloat(w.buf, f, 'g', -1, 64)
}

const hexDigits = "0123456789abcdef"

// str writes a JSON string, escaping everything outside printable ASCII.
func (w *jsonWriter) str(s string) {
	w.buf = append(w.buf, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			w.buf = append(w.buf, '\\', byte(r))
		case r >= 0x20 && r < 0x7f:
			w.buf = append(w.buf, byte(r))
		case r > 0xffff:
			r1, r2 := utf16Pair(r)
			w.u4(r1)
			w.u4(r2)
		case r == utf8.RuneError:
			w.u4(0xfffd)
		default:
			w.u4(r)
		}
	}
	w.buf = append(w.buf, '"')
}

func (w *jsonWriter) u4(r rune) {
	w.buf = append(w.buf, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

package explain

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// rbacRegexps caches compiled safe_regex patterns; RE2 and Go's regexp agree on syntax and
// semantics for the patterns Envoy accepts.
var rbacRegexps sync.Map // string -> *regexp.Regexp

func rbacRegexp(re string) (*regexp.Regexp, error) {
	if c, ok := rbacRegexps.Load(re); ok {
		return c.(*regexp.Regexp), nil
	}
	c, err := regexp.Compile(`^(?:` + re + `)$`) // Envoy's safe_regex is a full match
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", re, err)
	}
	rbacRegexps.Store(re, c)
	return c, nil
}

// rbacString evaluates a StringMatcher on s.
func rbacString(m *matcherv3.StringMatcher, s string) (bool, error) {
	fold := func(x string) string {
		if m.GetIgnoreCase() {
			return strings.ToLower(x)
		}
		return x
	}
	switch p := m.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		return fold(s) == fold(p.Exact), nil
	case *matcherv3.StringMatcher_Prefix:
		return strings.HasPrefix(fold(s), fold(p.Prefix)), nil
	case *matcherv3.StringMatcher_Suffix:
		return strings.HasSuffix(fold(s), fold(p.Suffix)), nil
	case *matcherv3.StringMatcher_Contains:
		return strings.Contains(fold(s), fold(p.Contains)), nil
	case *matcherv3.StringMatcher_SafeRegex:
		re, err := rbacRegexp(p.SafeRegex.GetRegex())
		if err != nil {
			return false, err
		}
		return re.MatchString(s), nil
	}
	return false, fmt.Errorf("unsupported string matcher %T", m.GetMatchPattern())
}

// rbacHeaderValue returns a request header; pseudo-headers come from the request line.
func rbacHeaderValue(r *RBACRequest, name string) (string, bool) {
	switch name = strings.ToLower(name); name {
	case ":authority", "host":
		return r.Host, r.Host != ""
	case ":method":
		return r.Method, r.Method != ""
	case ":path":
		return r.Path, r.Path != ""
	}
	v, ok := r.Headers[name]
	return v, ok
}

// rbacHeader evaluates a HeaderMatcher as Envoy's HeaderUtility::matchHeaders does.
func rbacHeader(h *routev3.HeaderMatcher, r *RBACRequest) (bool, error) {
	v, present := rbacHeaderValue(r, h.GetName())
	if !present && !h.GetTreatMissingHeaderAsEmpty() {
		pm, isPresent := h.GetHeaderMatchSpecifier().(*routev3.HeaderMatcher_PresentMatch)
		if h.GetInvertMatch() {
			return isPresent && pm.PresentMatch, nil
		}
		return isPresent && !pm.PresentMatch, nil
	}
	var ok bool
	var err error
	switch s := h.GetHeaderMatchSpecifier().(type) {
	case *routev3.HeaderMatcher_PresentMatch:
		ok = s.PresentMatch
	case *routev3.HeaderMatcher_StringMatch:
		ok, err = rbacString(s.StringMatch, v)
	case *routev3.HeaderMatcher_ExactMatch:
		ok = v == s.ExactMatch
	case *routev3.HeaderMatcher_PrefixMatch:
		ok = strings.HasPrefix(v, s.PrefixMatch)
	case *routev3.HeaderMatcher_SuffixMatch:
		ok = strings.HasSuffix(v, s.SuffixMatch)
	case *routev3.HeaderMatcher_ContainsMatch:
		ok = strings.Contains(v, s.ContainsMatch)
	case *routev3.HeaderMatcher_SafeRegexMatch:
		ok, err = rbacString(&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: s.SafeRegexMatch}}, v)
	default:
		return false, fmt.Errorf("unsupported header matcher %T", h.GetHeaderMatchSpecifier())
	}
	return ok != h.GetInvertMatch(), err
}

func rbacPathMatcher(m *matcherv3.PathMatcher, path string) (bool, error) {
	if m.GetPath() == nil {
		return false, fmt.Errorf("unsupported path matcher %T", m.GetRule())
	}
	return rbacString(m.GetPath(), rbacPath(path))
}

// rbacMetadata evaluates a MetadataMatcher on the request's dynamic metadata.
func rbacMetadata(m *matcherv3.MetadataMatcher, r *RBACRequest) (bool, error) {
	var v any = map[string]any(r.Metadata[m.GetFilter()])
	found := r.Metadata[m.GetFilter()] != nil
	for _, seg := range m.GetPath() {
		obj, ok := v.(map[string]any)
		if !ok {
			found = false
			break
		}
		v, found = obj[seg.GetKey()]
		if !found {
			break
		}
	}
	if !found {
		v = rbacMissing{}
	}
	ok, err := rbacValue(m.GetValue(), v)
	return ok != m.GetInvert(), err
}

// rbacMissing stands for a metadata path that does not exist.
type rbacMissing struct{}

// rbacValue evaluates a ValueMatcher on a JSON-like value (string, float64, bool, nil,
// []any, map[string]any).
func rbacValue(m *matcherv3.ValueMatcher, v any) (bool, error) {
	switch p := m.GetMatchPattern().(type) {
	case *matcherv3.ValueMatcher_StringMatch:
		s, ok := v.(string)
		if !ok {
			return false, nil
		}
		return rbacString(p.StringMatch, s)
	case *matcherv3.ValueMatcher_BoolMatch:
		b, ok := v.(bool)
		return ok && b == p.BoolMatch, nil
	case *matcherv3.ValueMatcher_NullMatch_:
		return v == nil, nil
	case *matcherv3.ValueMatcher_PresentMatch:
		switch v.(type) {
		case rbacMissing, []any, map[string]any:
			return !p.PresentMatch, nil
		}
		return p.PresentMatch, nil
	case *matcherv3.ValueMatcher_DoubleMatch:
		f, ok := v.(float64)
		if !ok {
			return false, nil
		}
		if e, isExact := p.DoubleMatch.GetMatchPattern().(*matcherv3.DoubleMatcher_Exact); isExact {
			return f == e.Exact, nil
		}
		r := p.DoubleMatch.GetRange()
		return f >= r.GetStart() && f < r.GetEnd(), nil
	case *matcherv3.ValueMatcher_ListMatch:
		list, ok := v.([]any)
		if !ok {
			return false, nil
		}
		return rbacAny(list, func(x any) (bool, error) { return rbacValue(p.ListMatch.GetOneOf(), x) })
	case *matcherv3.ValueMatcher_OrMatch:
		return rbacAny(p.OrMatch.GetValueMatchers(), func(x *matcherv3.ValueMatcher) (bool, error) { return rbacValue(x, v) })
	}
	return false, fmt.Errorf("unsupported value matcher %T", m.GetMatchPattern())
}

// rbacURITemplate matches Envoy's uri_template syntax: "*" is one path segment, "**" any
// number of segments (it is the last operator). Variables ({name=...}) are not emitted by
// the control plane and are not supported.
func rbacURITemplate(tmpl, path string) (bool, error) {
	const pchar = `[a-zA-Z0-9\-._~%!$&'()+,;:@=]`
	var b strings.Builder
	for i, seg := range strings.Split(tmpl, "/") {
		if i > 0 {
			b.WriteString("/")
		}
		switch {
		case seg == "**":
			b.WriteString(`(?:` + pchar + `|/)*`)
		case seg == "*":
			b.WriteString(pchar + `+`)
		case strings.ContainsAny(seg, "{}*"):
			return false, fmt.Errorf("unsupported uri template %q", tmpl)
		default:
			b.WriteString(regexp.QuoteMeta(seg))
		}
	}
	re, err := rbacRegexp(b.String())
	if err != nil {
		return false, err
	}
	return re.MatchString(path), nil
}

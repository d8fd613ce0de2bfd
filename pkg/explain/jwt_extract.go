package explain

import (
	"maps"
	"slices"
	"strings"

	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
)

type locationKind int

const (
	inHeader locationKind = iota
	inParam
	inCookie
)

// issuerChecker is the set of issuers whose providers search one location; an empty issuer
// in any of them allows every issuer (Envoy extractor.cc JwtIssuerChecker).
type issuerChecker struct {
	all     bool
	issuers map[string]bool
}

func (c *issuerChecker) add(issuer string) {
	if issuer == "" {
		c.all = true
		return
	}
	if c.issuers == nil {
		c.issuers = map[string]bool{}
	}
	c.issuers[issuer] = true
}

func (c *issuerChecker) allows(issuer string) bool { return c.all || c.issuers[issuer] }

// location is one place tokens are looked for, shared by the providers that name it.
type location struct {
	kind    locationKind
	name    string // lower-case header name, query parameter or cookie name
	prefix  string // header value prefix
	checker issuerChecker
}

// extracted is one token taken from a request.
type extracted struct {
	token string
	loc   *location
}

// extractor mirrors Envoy's ExtractorImpl for a list of providers: headers (keyed by
// name+prefix), then query parameters, then cookies, each in key order.
type extractor struct {
	headers, params, cookies map[string]*location
	sanitize                 []string
}

// defaultHeader and defaultParam are used by a provider that names no location.
const (
	defaultHeader       = "authorization"
	defaultHeaderPrefix = "Bearer "
	defaultParam        = "access_token"
)

func newExtractor(providers []*jwtauthnv3.JwtProvider) *extractor {
	x := &extractor{headers: map[string]*location{}, params: map[string]*location{}, cookies: map[string]*location{}}
	add := func(m map[string]*location, key string, l location, issuer string) {
		if m[key] == nil {
			m[key] = &l
		}
		m[key].checker.add(issuer)
	}
	for _, p := range providers {
		for _, h := range p.GetFromHeaders() {
			name := strings.ToLower(h.GetName())
			add(x.headers, name+h.GetValuePrefix(), location{kind: inHeader, name: name, prefix: h.GetValuePrefix()}, p.GetIssuer())
		}
		for _, q := range p.GetFromParams() {
			add(x.params, q, location{kind: inParam, name: q}, p.GetIssuer())
		}
		for _, c := range p.GetFromCookies() {
			add(x.cookies, c, location{kind: inCookie, name: c}, p.GetIssuer())
		}
		if len(p.GetFromHeaders()) == 0 && len(p.GetFromParams()) == 0 && len(p.GetFromCookies()) == 0 {
			add(x.headers, defaultHeader+defaultHeaderPrefix, location{kind: inHeader, name: defaultHeader, prefix: defaultHeaderPrefix}, p.GetIssuer())
			add(x.params, defaultParam, location{kind: inParam, name: defaultParam}, p.GetIssuer())
		}
		if h := p.GetForwardPayloadHeader(); h != "" {
			x.sanitize = append(x.sanitize, strings.ToLower(h))
		}
		for _, c := range p.GetClaimToHeaders() {
			x.sanitize = append(x.sanitize, strings.ToLower(c.GetHeaderName()))
		}
	}
	return x
}

// sanitizeHeaders drops client-sent copies of the headers these providers write, so an
// upstream can trust them.
func (x *extractor) sanitizeHeaders(st *state) {
	for _, h := range x.sanitize {
		delete(st.headers, h)
	}
}

func (x *extractor) extract(st *state) []extracted {
	var out []extracted
	for _, key := range slices.Sorted(maps.Keys(x.headers)) {
		l := x.headers[key]
		for _, v := range st.headers[l.name] {
			if l.prefix != "" {
				pos := strings.Index(v, l.prefix)
				if pos < 0 {
					continue
				}
				v = tokenAfter(v, pos+len(l.prefix))
			}
			out = append(out, extracted{token: v, loc: l})
		}
	}
	for _, key := range slices.Sorted(maps.Keys(x.params)) {
		if vs := st.query[key]; len(vs) > 0 {
			out = append(out, extracted{token: vs[0], loc: x.params[key]})
		}
	}
	for _, key := range slices.Sorted(maps.Keys(x.cookies)) {
		if v, ok := st.cookies[key]; ok {
			out = append(out, extracted{token: v, loc: x.cookies[key]})
		}
	}
	return out
}

// tokenAfter skips to the first base64url or '.' character at or after pos and returns the
// rest; with none, the whole value (Envoy's extractJWT).
func tokenAfter(v string, pos int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
	i := strings.IndexAny(v[pos:], alphabet)
	if i < 0 {
		return v
	}
	return v[pos+i:]
}

// remove takes a verified token out of the request when the provider does not forward it.
// Envoy removes a header token's whole header and a parameter token's parameter, and leaves
// cookies alone.
func (f extracted) remove(st *state) {
	switch f.loc.kind {
	case inHeader:
		delete(st.headers, f.loc.name)
	case inParam:
		delete(st.query, f.loc.name)
	}
}

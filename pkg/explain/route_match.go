package explain

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	uritemplatev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/match/uri_template/v3"
)

// routeMatch evaluates a RouteMatch as Envoy's route entries do: the path specifier (prefix on
// the whole :path; exact, regex and templates on the path without its query), then every
// header and query parameter matcher.
func routeMatch(m *routev3.RouteMatch, r *httpReq, tls bool) (bool, error) {
	if m.GetRuntimeFraction() != nil || len(m.GetDynamicMetadata()) > 0 || len(m.GetFilterState()) > 0 || len(m.GetCookies()) > 0 {
		return false, fmt.Errorf("runtime_fraction, dynamic_metadata, filter_state and cookies matchers are not supported")
	}
	ok, err := routePath(m, r.path)
	if err != nil || !ok {
		return false, err
	}
	if m.GetGrpc() != nil && !strings.HasPrefix(first(r.headers, "content-type"), "application/grpc") {
		return false, nil
	}
	if tc := m.GetTlsContext(); tc != nil && tc.GetPresented() != nil && tc.GetPresented().GetValue() != tls {
		return false, nil
	}
	rr := &RBACRequest{Method: r.method, Host: r.host, Path: r.path, Headers: map[string]string{}}
	for k, vs := range r.headers {
		rr.Headers[k] = strings.Join(vs, ",")
	}
	for _, h := range m.GetHeaders() {
		if ok, err := rbacHeader(h, rr); err != nil || !ok {
			return false, err
		}
	}
	_, rawQuery, _ := strings.Cut(r.path, "?")
	query, _ := url.ParseQuery(rawQuery)
	for _, q := range m.GetQueryParameters() {
		vs, present := query[q.GetName()]
		switch {
		case q.GetPresentMatch():
			ok = present
		case q.GetStringMatch() != nil:
			ok = present
			if present {
				ok, err = rbacString(q.GetStringMatch(), vs[0])
			}
		default:
			ok = present
		}
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func routePath(m *routev3.RouteMatch, full string) (bool, error) {
	fold := func(s string) string { return s }
	if m.GetCaseSensitive() != nil && !m.GetCaseSensitive().GetValue() {
		fold = strings.ToLower
	}
	path, _, _ := strings.Cut(full, "?")
	switch p := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		return strings.HasPrefix(fold(full), fold(p.Prefix)), nil
	case *routev3.RouteMatch_Path:
		return fold(path) == fold(p.Path), nil
	case *routev3.RouteMatch_PathSeparatedPrefix:
		pre := fold(p.PathSeparatedPrefix)
		return fold(path) == pre || strings.HasPrefix(fold(path), pre+"/"), nil
	case *routev3.RouteMatch_SafeRegex:
		re, err := rbacRegexp(p.SafeRegex.GetRegex())
		if err != nil {
			return false, err
		}
		return re.MatchString(path), nil
	case *routev3.RouteMatch_PathMatchPolicy:
		var cfg uritemplatev3.UriTemplateMatchConfig
		if err := p.PathMatchPolicy.GetTypedConfig().UnmarshalTo(&cfg); err != nil {
			return false, fmt.Errorf("path_match_policy: %w", err)
		}
		return rbacURITemplate(cfg.GetPathTemplate(), path)
	case nil:
		return false, fmt.Errorf("route match without a path specifier")
	}
	return false, fmt.Errorf("path specifier %T is not supported", m.GetPathSpecifier())
}

// redirectStatus maps RedirectAction.response_code (default MOVED_PERMANENTLY).
func redirectStatus(c routev3.RedirectAction_RedirectResponseCode) int {
	switch c {
	case routev3.RedirectAction_FOUND:
		return http.StatusFound
	case routev3.RedirectAction_SEE_OTHER:
		return http.StatusSeeOther
	case routev3.RedirectAction_TEMPORARY_REDIRECT:
		return http.StatusTemporaryRedirect
	case routev3.RedirectAction_PERMANENT_REDIRECT:
		return http.StatusPermanentRedirect
	}
	return http.StatusMovedPermanently
}

// redirectLocation builds the Location header: each part of the request URL the redirect
// does not replace is kept.
func redirectLocation(a *routev3.RedirectAction, r *httpReq, tls bool) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	if a.GetHttpsRedirect() {
		scheme = "https"
	} else if s := a.GetSchemeRedirect(); s != "" {
		scheme = s
	}
	host := r.host
	if h := a.GetHostRedirect(); h != "" {
		host = h
	}
	if p := a.GetPortRedirect(); p != 0 {
		h, _, _ := strings.Cut(host, ":")
		host = fmt.Sprintf("%s:%d", h, p)
	}
	path := r.path
	if p := a.GetPathRedirect(); p != "" {
		path = p
	}
	if a.GetStripQuery() {
		path, _, _ = strings.Cut(path, "?")
	}
	return scheme + "://" + host + path
}

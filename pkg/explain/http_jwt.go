package explain

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
)

const jwtNamespace = "envoy.filters.http.jwt_authn"

// jwt runs jwt_authn: with Input.Claims the claims are taken as verified; otherwise the
// request's tokens are checked with JWT, and a verified payload becomes the metadata the RBAC
// filters after it match requestPrincipals and claims on.
func (e *evaluation) jwt(name string, cfg *jwtauthnv3.JwtAuthentication, r *httpReq) (bool, error) {
	if e.in.Claims != nil {
		key := payloadKey(cfg)
		e.meta[jwtNamespace] = map[string]any{key: e.in.Claims}
		e.out.step("jwt_authn", name, "no token checked: the given claims are taken as verified (payload %s)", claimsText(e.in.Claims))
		return false, nil
	}
	path, rawQuery, _ := strings.Cut(r.path, "?")
	query, _ := url.ParseQuery(rawQuery)
	scheme := "http"
	if e.tls {
		scheme = "https"
	}
	res, err := JWT(cfg, Request{
		Method: r.method, Scheme: scheme, Host: r.host, Path: path, Query: query,
		Headers: r.headers, Cookies: cookies(r.headers), Now: e.in.now(),
	})
	if err != nil {
		return false, err
	}
	if !res.Allowed {
		e.out.step("jwt_authn", name, "token rejected: %s → %d", res.Status, res.Code)
		e.out.deny(res.Code, res.Body, Decision{Filter: name, Reason: res.Status.String()})
		if res.WWWAuthenticate != "" {
			e.out.Headers = map[string]string{"www-authenticate": res.WWWAuthenticate}
		}
		return true, nil
	}
	r.headers = res.Headers
	switch {
	case res.Bypass != "":
		e.out.step("jwt_authn", name, "not checked: %s", res.Bypass)
	case len(res.Metadata) == 0:
		e.out.step("jwt_authn", name, "no token, and none is required: the request continues unauthenticated")
	default:
		md := map[string]any{}
		for _, k := range slices.Sorted(maps.Keys(res.Metadata)) {
			md[k] = res.Metadata[k]
			e.out.step("jwt_authn", name, "token verified; payload %s → metadata %s", claimsText(res.Metadata[k]), k)
		}
		e.meta[jwtNamespace] = md
	}
	return false, nil
}

// payloadKey is where the providers write the payload; the control plane uses one key.
func payloadKey(cfg *jwtauthnv3.JwtAuthentication) string {
	for _, name := range slices.Sorted(maps.Keys(cfg.GetProviders())) {
		if k := cfg.GetProviders()[name].GetPayloadInMetadata(); k != "" {
			return k
		}
	}
	return "payload"
}

// claimsText shows the identifying claims: iss, sub, and how many others.
func claimsText(c map[string]any) string {
	s := fmt.Sprintf("iss=%v sub=%v", c["iss"], c["sub"])
	n := len(c)
	for _, k := range []string{"iss", "sub"} {
		if _, ok := c[k]; ok {
			n--
		}
	}
	if n > 0 {
		s += fmt.Sprintf(" (+%d claims)", n)
	}
	return s
}

func cookies(h map[string][]string) map[string]string {
	req := http.Request{Header: http.Header{"Cookie": h["cookie"]}}
	out := map[string]string{}
	for _, c := range req.Cookies() {
		out[c.Name] = c.Value
	}
	return out
}

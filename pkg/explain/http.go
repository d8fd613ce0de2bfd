package explain

import (
	"fmt"
	"net/http"
	"strings"

	extauthzhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
)

// httpReq is the request as the HTTP filters see and change it.
type httpReq struct {
	method, host string
	// path is the :path after the HCM's normalisation, query included.
	path     string
	headers  map[string][]string // lower-case names
	remoteIP string
}

// newHTTPReq applies what the HCM does before any filter runs: path normalisation, and the
// client address from use_remote_address or x-forwarded-for.
func (e *evaluation) newHTTPReq(hcm *hcmv3.HttpConnectionManager) *httpReq {
	r := &httpReq{method: e.in.Method, host: strings.ToLower(e.in.Host), path: e.in.Path, headers: lowerHeaders(e.in.Headers)}
	if r.method == "" {
		r.method = http.MethodGet
	}
	if r.path == "" {
		r.path = "/"
	}
	if r.host == "" {
		r.host = strings.ToLower(first(r.headers, "host"))
	}
	if hcm.GetNormalizePath().GetValue() {
		if p := normalizePath(r.path, hcm.GetMergeSlashes()); p != r.path {
			e.out.step("http", "normalize_path", "path %s is normalised to %s", r.path, p)
			r.path = p
		}
	}
	r.remoteIP = e.in.SourceIP
	xff := first(r.headers, "x-forwarded-for")
	if !hcm.GetUseRemoteAddress().GetValue() && xff != "" {
		// Without use_remote_address (and no trusted hops) Envoy takes the last address of
		// x-forwarded-for as the client's.
		parts := strings.Split(xff, ",")
		r.remoteIP = strings.TrimSpace(parts[len(parts)-1])
	}
	return r
}

// rbacRequest is what an HTTP RBAC filter sees of the request now.
func (e *evaluation) rbacRequest(r *httpReq) *RBACRequest {
	h := make(map[string]string, len(r.headers))
	for k, vs := range r.headers {
		h[k] = strings.Join(vs, ",")
	}
	return &RBACRequest{
		Method: r.method, Host: r.host, Path: r.path, Headers: h,
		DestinationIP: e.in.DestinationIP, DestinationPort: e.in.Port,
		SourceIP: e.in.SourceIP, RemoteIP: r.remoteIP, PeerPrincipal: e.peer, SNI: e.sni,
		Metadata: e.meta,
	}
}

// http runs an HCM's HTTP filters in order; the router ends the walk.
func (e *evaluation) http(hcm *hcmv3.HttpConnectionManager) error {
	r := e.newHTTPReq(hcm)
	e.out.step("http", "http_connection_manager", "%s %s (authority %q)", r.method, r.path, r.host)
	for _, f := range hcm.GetHttpFilters() {
		if f.GetDisabled() {
			continue
		}
		msg, err := unpack(f.GetTypedConfig())
		if err != nil {
			return fmt.Errorf("http filter %s: %w", f.GetName(), err)
		}
		done, err := e.httpFilter(f.GetName(), msg, r, hcm)
		if err != nil {
			return fmt.Errorf("http filter %s: %w", f.GetName(), err)
		}
		if done {
			return nil
		}
	}
	return fmt.Errorf("the HTTP filters end without a router")
}

func (e *evaluation) httpFilter(name string, msg proto.Message, r *httpReq, hcm *hcmv3.HttpConnectionManager) (bool, error) {
	switch cfg := msg.(type) {
	case *rbachttpv3.RBAC:
		if cfg.GetMatcher() != nil || cfg.GetShadowMatcher() != nil {
			return false, fmt.Errorf("RBAC matcher trees are not supported")
		}
		return e.rbac(name, rbacFilter{rules: cfg.GetRules(), shadow: cfg.GetShadowRules(),
			shadowPrefix: cfg.GetShadowRulesStatPrefix()}, e.rbacRequest(r))
	case *extauthzhttpv3.ExtAuthz:
		return e.httpExtAuthz(name, cfg)
	case *jwtauthnv3.JwtAuthentication:
		return e.jwt(name, cfg, r)
	case *routerv3.Router:
		return true, e.route(hcm, r)
	}
	e.out.step("http_filter", name, "%T is not modelled; taken to pass the request on", msg)
	return false, nil
}

func (e *evaluation) httpExtAuthz(name string, cfg *extauthzhttpv3.ExtAuthz) (bool, error) {
	cluster := cfg.GetGrpcService().GetEnvoyGrpc().GetClusterName()
	if cluster == "" {
		cluster = cfg.GetHttpService().GetServerUri().GetCluster()
	}
	provider := extAuthzProvider(cfg.GetFilterEnabledMetadata().GetValue().GetStringMatch().GetPrefix(), cluster)
	if called, err := e.extAuthzCalled(name, provider, cfg.GetFilterEnabledMetadata()); err != nil || !called {
		return false, err
	}
	if e.in.ExtAuthz == ExtAuthzAllow {
		e.out.step("ext_authz", name, "would call provider %s (cluster %s); assumed to allow", provider, cluster)
		return false, nil
	}
	e.out.step("ext_authz", name, "would call provider %s (cluster %s); assumed to deny with 403", provider, cluster)
	policy, _ := e.meta[rbacNamespace(false)]["istio_ext_authz_shadow_effective_policy_id"].(string)
	e.out.deny(http.StatusForbidden, "", e.cfg.decision(name, policy, "ext_authz provider "+provider+" denied"))
	return true, nil
}

// normalizePath removes dot segments (RFC 3986 §5.2.4) from the path part, as Envoy's
// normalize_path does, and with merge_slashes collapses repeated slashes.
func normalizePath(p string, mergeSlashes bool) string {
	path, query, hasQuery := strings.Cut(p, "?")
	var out []string
	segs := strings.Split(path, "/")
	for i, s := range segs {
		last := i == len(segs)-1
		switch {
		case s == ".":
			if last {
				out = append(out, "")
			}
		case s == "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		case s == "" && mergeSlashes && i > 0 && !last:
		default:
			out = append(out, s)
		}
	}
	path = strings.Join(out, "/")
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if hasQuery {
		path += "?" + query
	}
	return path
}

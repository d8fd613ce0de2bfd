package explain

import (
	"fmt"
	"net/http"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

const routerFilter = "envoy.filters.http.router"

// route is the router filter: route configuration, virtual host by :authority, first
// matching route, then its action.
func (e *evaluation) route(hcm *hcmv3.HttpConnectionManager, r *httpReq) error {
	rc, err := e.routeConfig(hcm)
	if err != nil {
		return err
	}
	vh := pickVirtualHost(rc.GetVirtualHosts(), r.host)
	if vh == nil {
		e.out.step("route", rc.GetName(), "no virtual host matches authority %q → 404", r.host)
		e.out.deny(http.StatusNotFound, "", Decision{Filter: routerFilter, Reason: "no virtual host for " + r.host})
		return nil
	}
	e.out.step("route", rc.GetName(), "virtual host %s matches authority %q", vh.GetName(), r.host)
	if vh.GetRequireTls() == routev3.VirtualHost_ALL && !e.tls {
		e.out.step("route", vh.GetName(), "require_tls ALL and the request is plaintext → 301 to https")
		e.out.deny(http.StatusMovedPermanently, "", Decision{Filter: routerFilter, Reason: "virtual host " + vh.GetName() + " requires TLS"})
		e.out.Headers = map[string]string{"location": "https://" + r.host + r.path}
		return nil
	}
	for i, rt := range vh.GetRoutes() {
		ok, err := routeMatch(rt.GetMatch(), r, e.tls)
		if err != nil {
			return fmt.Errorf("route configuration %s: virtual host %s: routes[%d]: %w", rc.GetName(), vh.GetName(), i, err)
		}
		if ok {
			e.out.Route = rt.GetName()
			return e.action(vh, rt, r)
		}
	}
	e.out.step("route", vh.GetName(), "no route matches %s %s → 404", r.method, r.path)
	e.out.deny(http.StatusNotFound, "", Decision{Filter: routerFilter, Reason: "no route matches in " + vh.GetName()})
	return nil
}

// routeConfig is the HCM's inline route configuration or the RDS one it names.
func (e *evaluation) routeConfig(hcm *hcmv3.HttpConnectionManager) (*routev3.RouteConfiguration, error) {
	if rc := hcm.GetRouteConfig(); rc != nil {
		return rc, nil
	}
	name := hcm.GetRds().GetRouteConfigName()
	for _, rc := range e.cfg.Routes {
		if rc.GetName() == name {
			return rc, nil
		}
	}
	return nil, fmt.Errorf("route configuration %q is not in the configuration", name)
}

// pickVirtualHost follows Envoy's domain search order on the whole :authority (port
// included): an exact domain, then the longest suffix wildcard ("*.example.com"), then the
// longest prefix wildcard ("example.*"), then "*". A wildcard stands for at least one
// character. Domains are case-insensitive.
func pickVirtualHost(vhosts []*routev3.VirtualHost, host string) *routev3.VirtualHost {
	host = strings.ToLower(host)
	var best *routev3.VirtualHost
	bestScore := 0
	for _, vh := range vhosts {
		for _, d := range vh.GetDomains() {
			if s := domainScore(strings.ToLower(d), host); s > bestScore {
				best, bestScore = vh, s
			}
		}
	}
	return best
}

func domainScore(d, host string) int {
	const exact, suffix, prefix = 3 << 20, 2 << 20, 1 << 20
	switch {
	case d == "*":
		return 1
	case d == host:
		return exact
	case strings.HasPrefix(d, "*") && len(host) > len(d)-1 && strings.HasSuffix(host, d[1:]):
		return suffix + len(d)
	case strings.HasSuffix(d, "*") && len(host) > len(d)-1 && strings.HasPrefix(host, d[:len(d)-1]):
		return prefix + len(d)
	}
	return 0
}

// action is what the matched route does: forward, redirect or answer directly.
func (e *evaluation) action(vh *routev3.VirtualHost, rt *routev3.Route, r *httpReq) error {
	where := vh.GetName() + " route " + rt.GetName()
	switch a := rt.GetAction().(type) {
	case *routev3.Route_Route:
		cluster := a.Route.GetCluster()
		switch {
		case a.Route.GetWeightedClusters() != nil:
			cluster = weightedNames(a.Route.GetWeightedClusters().GetClusters())
		case a.Route.GetClusterHeader() != "":
			cluster = first(r.headers, strings.ToLower(a.Route.GetClusterHeader()))
		}
		if !e.clusterKnown(cluster) {
			e.out.step("route", rt.GetName(), "matches; cluster %s does not exist → 503", cluster)
			e.out.deny(http.StatusServiceUnavailable, "", Decision{Filter: routerFilter, Reason: "cluster " + cluster + " not found"})
			return nil
		}
		e.out.step("route", rt.GetName(), "matches; forwarded to cluster %s", cluster)
		e.out.Allowed, e.out.Cluster = true, cluster
	case *routev3.Route_Redirect:
		loc := redirectLocation(a.Redirect, r, e.tls)
		status := redirectStatus(a.Redirect.GetResponseCode())
		e.out.step("route", rt.GetName(), "matches; redirect %d to %s", status, loc)
		e.out.deny(status, "", Decision{Filter: routerFilter, Reason: "redirect by " + where})
		e.out.Headers = map[string]string{"location": loc}
	case *routev3.Route_DirectResponse:
		body := a.DirectResponse.GetBody().GetInlineString()
		if b := a.DirectResponse.GetBody().GetInlineBytes(); len(b) > 0 {
			body = string(b)
		}
		status := int(a.DirectResponse.GetStatus())
		e.out.step("route", rt.GetName(), "matches; direct response %d", status)
		e.out.deny(status, body, Decision{Filter: routerFilter, Reason: "direct response of " + where})
	default:
		return fmt.Errorf("route %s: action %T is not supported", rt.GetName(), a)
	}
	return nil
}

// clusterKnown: without clusters in the configuration every cluster is taken to exist.
func (e *evaluation) clusterKnown(name string) bool {
	if len(e.cfg.Clusters) == 0 || strings.HasPrefix(name, "one of ") {
		return true
	}
	for _, c := range e.cfg.Clusters {
		if c.GetName() == name {
			return true
		}
	}
	return false
}

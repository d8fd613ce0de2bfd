package translate

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// routeContext is what decides which VirtualService matches apply: the gateway a route is
// served on (empty for sidecars) and the port of the listener.
type routeContext struct {
	in       Inputs
	reg      *registry
	clusters *clusterSet
	gateway  string // "ns/name" of the Gateway, or "mesh" for sidecars
	port     uint32
}

// httpRoutes converts a VirtualService's http routes into Envoy routes, in order. A route with
// several match blocks becomes one Envoy route per block, as Istio does.
func (rc routeContext) httpRoutes(vs *model.VirtualService) ([]*routev3.Route, []model.Problem) {
	var out []*routev3.Route
	var problems []model.Problem
	for i, hr := range vs.Spec.GetHttp() {
		field := fmt.Sprintf("spec.http[%d]", i)
		action, ps := rc.routeAction(vs, hr, field)
		problems = append(problems, ps...)
		problems = append(problems, unsupportedRouteFields(vs, hr, field)...)
		matches := hr.GetMatch()
		if len(matches) == 0 {
			matches = []*networkingv1alpha3.HTTPMatchRequest{nil}
		}
		for j, m := range matches {
			if !rc.matchApplies(vs, m) {
				continue
			}
			r := &routev3.Route{
				Name:  routeName(vs, hr, i, j),
				Match: routeMatch(m),
			}
			action(r)
			addHeaderOperations(r, hr.GetHeaders())
			out = append(out, r)
		}
	}
	return out, problems
}

func routeName(vs *model.VirtualService, hr *networkingv1alpha3.HTTPRoute, i, j int) string {
	n := fmt.Sprintf("%s/%s/http[%d]", vs.Namespace, vs.Name, i)
	if hr.GetName() != "" {
		n += "/" + hr.GetName()
	}
	if j > 0 {
		n += fmt.Sprintf("/match[%d]", j)
	}
	return n
}

// matchApplies evaluates the parts of a match that depend on where the route is served:
// port, gateways and (for sidecars) the source workload's labels and namespace.
func (rc routeContext) matchApplies(vs *model.VirtualService, m *networkingv1alpha3.HTTPMatchRequest) bool {
	if m == nil {
		return true
	}
	if m.GetPort() != 0 && m.GetPort() != rc.port {
		return false
	}
	if gws := m.GetGateways(); len(gws) > 0 && !containsGateway(gws, vs.Namespace, rc.gateway) {
		return false
	}
	if rc.gateway == meshGateway {
		if !model.SelectorMatches(m.GetSourceLabels(), rc.in.Proxy.Labels) {
			return false
		}
		if ns := m.GetSourceNamespace(); ns != "" && ns != rc.in.Proxy.Namespace {
			return false
		}
	}
	return true
}

// routeAction returns a function that sets the route's action: a redirect, a direct response,
// or forwarding to clusters. Unresolvable destinations answer 503 (what Envoy does for a
// missing cluster) and are reported.
func (rc routeContext) routeAction(vs *model.VirtualService, hr *networkingv1alpha3.HTTPRoute, field string) (func(*routev3.Route), []model.Problem) {
	switch {
	case hr.GetRedirect() != nil:
		return func(r *routev3.Route) { r.Action = &routev3.Route_Redirect{Redirect: redirectAction(hr.GetRedirect())} }, nil
	case hr.GetDirectResponse() != nil:
		dr := hr.GetDirectResponse()
		return func(r *routev3.Route) {
			a := &routev3.DirectResponseAction{Status: dr.GetStatus()}
			if b := dr.GetBody(); b != nil {
				a.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: b.GetString_()}}
			}
			r.Action = &routev3.Route_DirectResponse{DirectResponse: a}
		}, nil
	}
	weighted, problems := rc.destinations(vs, hr, field)
	if len(weighted) == 0 {
		return func(r *routev3.Route) { r.Action = unavailable() }, problems
	}
	return func(r *routev3.Route) { r.Action = &routev3.Route_Route{Route: rc.forward(hr, r.GetMatch(), weighted)} }, problems
}

func unavailable() *routev3.Route_DirectResponse {
	return &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 503}}
}

// forward builds the RouteAction for resolved destinations with Istio's route defaults:
// no route timeout unless set, and Istio's default retry policy.
func (rc routeContext) forward(hr *networkingv1alpha3.HTTPRoute, m *routev3.RouteMatch, weighted []*routev3.WeightedCluster_ClusterWeight) *routev3.RouteAction {
	a := &routev3.RouteAction{Timeout: durationpb.New(0)}
	if len(weighted) == 1 {
		a.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: weighted[0].GetName()}
	} else {
		a.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: weighted}}
	}
	if t := hr.GetTimeout(); t != nil {
		a.Timeout = durationpb.New(t.AsDuration())
	}
	a.RetryPolicy = retryPolicy(hr.GetRetries())
	if rw := hr.GetRewrite(); rw != nil {
		if rw.GetUri() != "" {
			if re := m.GetSafeRegex(); re != nil {
				// Envoy swaps a matched prefix or path; a regex match must rewrite by regex.
				a.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{Pattern: re, Substitution: rw.GetUri()}
			} else {
				a.PrefixRewrite = rw.GetUri()
			}
		}
		if rw.GetAuthority() != "" {
			a.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: rw.GetAuthority()}
		}
		if rr := rw.GetUriRegexRewrite(); rr != nil {
			a.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{
				Pattern: &matcherv3.RegexMatcher{Regex: rr.GetMatch()}, Substitution: rr.GetRewrite(),
			}
		}
	}
	return a
}

// retryPolicy: nil retries means Istio's default (2 attempts on connection-level failures);
// attempts 0 disables retries.
func retryPolicy(r *networkingv1alpha3.HTTPRetry) *routev3.RetryPolicy {
	const defaultRetryOn = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
	if r == nil {
		return &routev3.RetryPolicy{RetryOn: defaultRetryOn, NumRetries: wrapperspb.UInt32(2)}
	}
	if r.GetAttempts() == 0 {
		return nil
	}
	p := &routev3.RetryPolicy{RetryOn: defaultRetryOn, NumRetries: wrapperspb.UInt32(uint32(r.GetAttempts()))}
	if r.GetRetryOn() != "" {
		p.RetryOn = r.GetRetryOn()
	}
	if t := r.GetPerTryTimeout(); t != nil && t.AsDuration() > 0 {
		p.PerTryTimeout = durationpb.New(t.AsDuration())
	}
	return p
}

func redirectAction(rd *networkingv1alpha3.HTTPRedirect) *routev3.RedirectAction {
	a := &routev3.RedirectAction{HostRedirect: rd.GetAuthority()}
	if rd.GetUri() != "" {
		a.PathRewriteSpecifier = &routev3.RedirectAction_PathRedirect{PathRedirect: rd.GetUri()}
	}
	if rd.GetScheme() != "" {
		a.SchemeRewriteSpecifier = &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: rd.GetScheme()}
	}
	if p := rd.GetPort(); p != 0 {
		a.PortRedirect = p
	}
	switch rd.GetRedirectCode() {
	case 0, 301:
		a.ResponseCode = routev3.RedirectAction_MOVED_PERMANENTLY
	case 302:
		a.ResponseCode = routev3.RedirectAction_FOUND
	case 303:
		a.ResponseCode = routev3.RedirectAction_SEE_OTHER
	case 307:
		a.ResponseCode = routev3.RedirectAction_TEMPORARY_REDIRECT
	case 308:
		a.ResponseCode = routev3.RedirectAction_PERMANENT_REDIRECT
	}
	return a
}

// unsupportedRouteFields reports route features this control plane does not translate. None
// of them grants access, so ignoring them cannot widen it; the warning says they are ignored.
func unsupportedRouteFields(vs *model.VirtualService, hr *networkingv1alpha3.HTTPRoute, field string) []model.Problem {
	var ps []model.Problem
	warn := func(name string) {
		ps = append(ps, model.ProblemFor(&vs.Meta, model.SeverityWarning, field+"."+name, "not supported by this control plane; ignored"))
	}
	if hr.GetFault() != nil {
		warn("fault")
	}
	if hr.GetMirror() != nil || len(hr.GetMirrors()) > 0 {
		warn("mirror")
	}
	if hr.GetCorsPolicy() != nil {
		warn("corsPolicy")
	}
	if hr.GetDelegate() != nil {
		warn("delegate")
	}
	return ps
}

// containsGateway reports whether a VirtualService's gateway list (names relative to the
// VirtualService's namespace, or "ns/name", or "mesh") names gw.
func containsGateway(list []string, vsNamespace, gw string) bool {
	for _, g := range list {
		if gatewayRef(g, vsNamespace) == gw {
			return true
		}
	}
	return false
}

// gatewayRef qualifies a gateway reference with the referring object's namespace.
func gatewayRef(ref, namespace string) string {
	if ref == meshGateway || strings.Contains(ref, "/") {
		return ref
	}
	return namespace + "/" + ref
}

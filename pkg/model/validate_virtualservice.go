package model

import (
	"fmt"
	"maps"
	"regexp"
	"slices"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
)

// validateVirtualService applies Istio's VirtualService checks (istio/istio
// pkg/config/validation/virtualservice.go) for the parts this control plane translates.
// Delegate VirtualServices (no hosts) are not supported, so hosts are required.
func validateVirtualService(vs *VirtualService) []Problem {
	ps := &problems{meta: &vs.Meta}
	spec := vs.Spec
	if len(spec.GetHosts()) == 0 {
		ps.errorf("spec.hosts", "virtual service must have at least one host (delegate virtual services are not supported)")
	}
	toMesh := len(spec.GetGateways()) == 0 || slices.Contains(spec.GetGateways(), "mesh")
	for i, h := range spec.GetHosts() {
		field := fieldPath("spec.hosts", i)
		if err := checkWildcardDomain(h); err != nil && !isIP(h) {
			ps.check(field, err)
		} else if toMesh && h == "*" {
			ps.errorf(field, "wildcard host * is not allowed for virtual services bound to the mesh gateway")
		}
	}
	if len(spec.GetHttp()) == 0 && len(spec.GetTcp()) == 0 && len(spec.GetTls()) == 0 {
		ps.errorf("spec", "http, tcp or tls must be provided in virtual service")
	}
	for i, r := range spec.GetHttp() {
		validateHTTPRoute(ps, fieldPath("spec.http", i), r)
	}
	for i, r := range spec.GetTls() {
		field := fieldPath("spec.tls", i)
		if len(r.GetMatch()) == 0 {
			ps.errorf(field+".match", "TLS route must have at least one match condition")
		}
		for j, m := range r.GetMatch() {
			if len(m.GetSniHosts()) == 0 {
				ps.errorf(fieldPath(field+".match", j, "sniHosts"), "TLS match must have at least one SNI host")
			}
		}
		if len(r.GetRoute()) == 0 {
			ps.errorf(field+".route", "TLS route is required")
		}
		validateDestinations(ps, field+".route", r.GetRoute())
	}
	for i, r := range spec.GetTcp() {
		field := fieldPath("spec.tcp", i)
		if len(r.GetRoute()) == 0 {
			ps.errorf(field+".route", "TCP route is required")
		}
		validateDestinations(ps, field+".route", r.GetRoute())
	}
	return ps.list
}

func validateHTTPRoute(ps *problems, field string, r *networkingv1alpha3.HTTPRoute) {
	switch {
	case r.GetRedirect() != nil && len(r.GetRoute()) > 0:
		ps.errorf(field, "HTTP route cannot contain both route and redirect")
	case r.GetRedirect() != nil && r.GetDirectResponse() != nil:
		ps.errorf(field, "HTTP route rule cannot contain both direct_response and redirect")
	case r.GetDirectResponse() != nil && len(r.GetRoute()) > 0:
		ps.errorf(field, "HTTP route cannot contain both route and direct_response")
	case r.GetRedirect() == nil && r.GetDirectResponse() == nil && len(r.GetRoute()) == 0 && r.GetDelegate() == nil:
		ps.errorf(field, "HTTP route, redirect or direct_response is required")
	}
	for j, m := range r.GetMatch() {
		validateHTTPMatch(ps, fieldPath(field+".match", j), m)
	}
	validateRedirect(ps, field+".redirect", r)
	if dr := r.GetDirectResponse(); dr != nil && (dr.GetStatus() < 200 || dr.GetStatus() > 599) {
		ps.errorf(field+".directResponse.status", "HTTP status %d is not in range 200-599", dr.GetStatus())
	}
	validateDestinations(ps, field+".route", r.GetRoute())
}

// weighted is the part of HTTP, TLS and TCP route destinations the checks read.
type weighted interface {
	GetDestination() *networkingv1alpha3.Destination
	GetWeight() int32
}

func validateDestinations[T weighted](ps *problems, field string, ds []T) {
	var total int64
	for j, d := range ds {
		at := fieldPath(field, j)
		validateDestination(ps, at+".destination", d.GetDestination())
		if d.GetWeight() < 0 {
			ps.errorf(at+".weight", "weight %d < 0", d.GetWeight())
		}
		total += int64(d.GetWeight())
	}
	if len(ds) > 1 && total == 0 {
		ps.errorf(field, "total destination weight = 0")
	}
}

func validateDestination(ps *problems, field string, d *networkingv1alpha3.Destination) {
	if d == nil {
		ps.errorf(field, "destination is required")
		return
	}
	if d.GetHost() == "*" {
		ps.errorf(field+".host", "invalid destination host %s", d.GetHost())
	} else {
		ps.check(field+".host", checkWildcardDomain(d.GetHost()))
	}
	if d.GetSubset() != "" && !isDNSLabel(d.GetSubset()) {
		ps.errorf(field+".subset", "subset name is invalid: %s", d.GetSubset())
	}
	if d.GetPort() != nil {
		ps.check(field+".port.number", checkPort(int(d.GetPort().GetNumber())))
	}
}

func validateHTTPMatch(ps *problems, field string, m *networkingv1alpha3.HTTPMatchRequest) {
	checkStringMatch(ps, field+".uri", m.GetUri())
	checkStringMatch(ps, field+".scheme", m.GetScheme())
	checkStringMatch(ps, field+".method", m.GetMethod())
	checkStringMatch(ps, field+".authority", m.GetAuthority())
	for _, k := range slices.Sorted(maps.Keys(m.GetHeaders())) {
		checkStringMatch(ps, fieldPath(field+".headers", k), m.GetHeaders()[k])
	}
	for _, k := range slices.Sorted(maps.Keys(m.GetQueryParams())) {
		checkStringMatch(ps, fieldPath(field+".queryParams", k), m.GetQueryParams()[k])
	}
	for _, k := range slices.Sorted(maps.Keys(m.GetWithoutHeaders())) {
		checkStringMatch(ps, fieldPath(field+".withoutHeaders", k), m.GetWithoutHeaders()[k])
	}
	if m.GetPort() != 0 {
		ps.check(field+".port", checkPort(int(m.GetPort())))
	}
	if ns := m.GetSourceNamespace(); ns != "" && !isDNSLabel(ns) {
		ps.errorf(field+".sourceNamespace", "sourceNamespace match %s is invalid", ns)
	}
}

// checkStringMatch rejects empty prefixes and regexes Envoy's RE2 would refuse (Go's regexp
// is RE2 syntax too).
func checkStringMatch(ps *problems, field string, sm *networkingv1alpha3.StringMatch) {
	switch v := sm.GetMatchType().(type) {
	case *networkingv1alpha3.StringMatch_Prefix:
		if v.Prefix == "" {
			ps.errorf(field+".prefix", "prefix string match should not be empty")
		}
	case *networkingv1alpha3.StringMatch_Regex:
		ps.check(field+".regex", checkRegex(v.Regex))
	}
}

func checkRegex(re string) error {
	switch {
	case re == "":
		return fmt.Errorf("regex string match should not be empty")
	case len(re) > 1024:
		return fmt.Errorf("regex is too large, max length allowed is 1024")
	}
	if _, err := regexp.Compile(re); err != nil {
		return fmt.Errorf("%w; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)", err)
	}
	return nil
}

func validateRedirect(ps *problems, field string, r *networkingv1alpha3.HTTPRoute) {
	rd := r.GetRedirect()
	if rd == nil {
		return
	}
	switch {
	case rd.GetUri() != "" && rd.GetPrefixRewrite() != "":
		ps.errorf(field, "redirect may only specify one of uri or prefix_rewrite")
	case rd.GetUri() == "" && rd.GetPrefixRewrite() == "" && rd.GetAuthority() == "" && rd.GetRedirectPort() == nil && rd.GetScheme() == "":
		ps.errorf(field, "redirect must specify URI, authority, scheme, or port")
	}
	if c := rd.GetRedirectCode(); c != 0 && (c < 300 || c > 399) {
		ps.errorf(field+".redirectCode", "%d is not a valid redirect code, must be 3xx", c)
	}
	if s := rd.GetScheme(); s != "" && s != "http" && s != "https" {
		ps.errorf(field+".scheme", `invalid redirect scheme, must be "http" or "https"`)
	}
	if rd.GetPort() > 0 {
		ps.check(field+".port", checkPort(int(rd.GetPort())))
	}
}

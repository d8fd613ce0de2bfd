package model

import (
	"maps"
	"net/netip"
	"slices"
	"strings"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
)

// validateServiceEntry applies Istio's ServiceEntry checks (ValidateServiceEntry) for hosts,
// addresses, ports and how the resolution mode constrains endpoints.
func validateServiceEntry(se *ServiceEntry) []Problem {
	ps := &problems{meta: &se.Meta}
	spec := se.Spec
	if spec.GetWorkloadSelector() != nil && spec.GetEndpoints() != nil {
		ps.errorf("spec", "only one of WorkloadSelector or Endpoints is allowed in Service Entry")
	}
	if len(spec.GetHosts()) == 0 {
		ps.errorf("spec.hosts", "service entry must have at least one host")
	}
	for i, h := range spec.GetHosts() {
		if h == "*" {
			ps.errorf(fieldPath("spec.hosts", i), "invalid host %s", h)
			continue
		}
		ps.check(fieldPath("spec.hosts", i), checkWildcardDomain(h))
	}
	cidr := false
	for i, a := range spec.GetAddresses() {
		cidr = cidr || strings.Contains(a, "/")
		if _, err := netip.ParsePrefix(a); err != nil && !isIP(a) {
			ps.errorf(fieldPath("spec.addresses", i), "%q is not a valid IP address or CIDR range", a)
		}
	}
	res := spec.GetResolution()
	if cidr && res != networkingv1alpha3.ServiceEntry_NONE && res != networkingv1alpha3.ServiceEntry_STATIC {
		ps.errorf("spec.addresses", "CIDR addresses are allowed only for NONE/STATIC resolution types")
	}
	portNames := validateServiceEntryPorts(ps, spec.GetPorts())
	switch res {
	case networkingv1alpha3.ServiceEntry_NONE:
		if len(spec.GetEndpoints()) != 0 {
			ps.errorf("spec.endpoints", "no endpoints should be provided for resolution type none")
		}
	case networkingv1alpha3.ServiceEntry_STATIC:
		if len(spec.GetEndpoints()) == 0 && spec.GetWorkloadSelector() == nil {
			// Istio accepts this, but the service then has no endpoints at all.
			ps.warnf("spec.endpoints", "STATIC resolution needs endpoints (addresses) or a workloadSelector; the service has no endpoints")
		}
		for i, ep := range spec.GetEndpoints() {
			validateEndpoint(ps, fieldPath("spec.endpoints", i), ep, portNames, false)
		}
	case networkingv1alpha3.ServiceEntry_DNS, networkingv1alpha3.ServiceEntry_DNS_ROUND_ROBIN:
		validateDNSEndpoints(ps, spec, portNames)
	default:
		ps.errorf("spec.resolution", "unsupported resolution type %s", res)
	}
	if res != networkingv1alpha3.ServiceEntry_NONE && len(spec.GetHosts()) > 1 {
		for _, p := range spec.GetPorts() {
			if pr := parseProtocol(p.GetProtocol()); !pr.isHTTP() && !pr.isTLS() {
				ps.errorf("spec.hosts", "multiple hosts provided with non-HTTP, non-TLS ports")
				break
			}
		}
	}
	return ps.list
}

// validateServiceEntryPorts checks the ports and returns the set of their names.
func validateServiceEntryPorts(ps *problems, ports []*networkingv1alpha3.ServicePort) map[string]bool {
	names := map[string]bool{}
	numbers := map[uint32]bool{}
	for i, p := range ports {
		field := fieldPath("spec.ports", i)
		if names[p.GetName()] {
			ps.errorf(field+".name", "service entry port name %q already defined", p.GetName())
		}
		if numbers[p.GetNumber()] {
			ps.errorf(field+".number", "service entry port %d already defined", p.GetNumber())
		}
		names[p.GetName()], numbers[p.GetNumber()] = true, true
		ps.check(field+".name", checkPortName(p.GetName()))
		if p.GetProtocol() != "" && parseProtocol(p.GetProtocol()) == protocolUnsupported {
			ps.errorf(field+".protocol", "unsupported protocol: %s", p.GetProtocol())
		}
		ps.check(field+".number", checkPort(int(p.GetNumber())))
		if p.GetTargetPort() != 0 {
			ps.check(field+".targetPort", checkPort(int(p.GetTargetPort())))
		}
	}
	return names
}

func validateDNSEndpoints(ps *problems, spec *networkingv1alpha3.ServiceEntry, portNames map[string]bool) {
	res := spec.GetResolution()
	if len(spec.GetEndpoints()) == 0 {
		for i, h := range spec.GetHosts() {
			if err := checkFQDN(h); err != nil {
				ps.errorf(fieldPath("spec.hosts", i), "hosts must be FQDN or contain only prefix wildcards if no endpoints are provided for resolution mode %s, %v", res, err)
				break
			}
		}
	}
	if res == networkingv1alpha3.ServiceEntry_DNS_ROUND_ROBIN && len(spec.GetEndpoints()) > 1 {
		ps.errorf("spec.endpoints", "there must only be 0 or 1 endpoint for resolution mode %s", res)
	}
	for i, ep := range spec.GetEndpoints() {
		validateEndpoint(ps, fieldPath("spec.endpoints", i), ep, portNames, true)
	}
}

// validateEndpoint checks an inline endpoint (a WorkloadEntry without its envelope).
// STATIC endpoints must be IP (or unix://) addresses; DNS ones may be host names.
func validateEndpoint(ps *problems, field string, ep *networkingv1alpha3.WorkloadEntry, portNames map[string]bool, allowFQDN bool) {
	addr := ep.GetAddress()
	switch {
	case addr == "" && ep.GetNetwork() == "":
		ps.errorf(field+".address", "address is required")
	case addr == "":
		ps.warnf(field+".address", "address is unset with network %q", ep.GetNetwork())
	case strings.HasPrefix(addr, "unix://"):
		if len(ep.GetPorts()) != 0 {
			ps.errorf(field+".ports", "unix endpoint %s must not include ports", addr)
		}
	case isIP(addr):
	case !allowFQDN:
		ps.errorf(field+".address", "endpoint address %q is not a valid IP address", addr)
	case checkFQDN(addr) != nil:
		ps.errorf(field+".address", "endpoint address %q is not a valid FQDN or an IP address", addr)
	}
	for _, name := range slices.Sorted(maps.Keys(ep.GetPorts())) {
		port := ep.GetPorts()[name]
		at := fieldPath(field+".ports", name)
		if portNames != nil && !portNames[name] {
			ps.errorf(at, "endpoint port %v is not defined by the service entry", port)
		}
		ps.check(at, checkPortName(name))
		ps.check(at, checkPort(int(port)))
	}
}

// validateWorkloadEntry applies Istio's ValidateWorkloadEntry: an address (IP, host name or
// unix socket) unless a network is named, and valid port names and numbers.
func validateWorkloadEntry(we *WorkloadEntry) []Problem {
	ps := &problems{meta: &we.Meta}
	validateEndpoint(ps, "spec", we.Spec, nil, true)
	return ps.list
}

package model

import (
	"fmt"
	"strings"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
)

// validateGateway applies Istio's Gateway checks (istio/istio pkg/config/validation,
// ValidateGateway) with its messages; TLS ones are SEMANTICS.md §7.2.
func validateGateway(g *Gateway) []Problem {
	ps := &problems{meta: &g.Meta}
	if !isDNSLabel(g.Name) && g.Name != "" {
		ps.errorf("metadata.name", "invalid gateway name: %q", g.Name)
	}
	servers := g.Spec.GetServers()
	if len(servers) == 0 {
		ps.errorf("spec.servers", "gateway must have at least one server")
	}
	portNames := map[string]bool{}
	for i, s := range servers {
		field := fieldPath("spec.servers", i)
		if s == nil {
			ps.errorf(field, "server may not be null")
			continue
		}
		validateServer(ps, field, s)
		if s.GetPort() == nil {
			continue
		}
		if portNames[s.GetPort().GetName()] {
			ps.errorf(field+".port.name", "port names in servers must be unique: duplicate name %s", s.GetPort().GetName())
		}
		portNames[s.GetPort().GetName()] = true
		if !parseProtocol(s.GetPort().GetProtocol()).isHTTP() && s.GetTls().GetHttpsRedirect() {
			ps.warnf(field+".tls.httpsRedirect", "tls.httpsRedirect should only be used with http servers")
		}
	}
	return ps.list
}

func validateServer(ps *problems, field string, s *networkingv1alpha3.Server) {
	if len(s.GetHosts()) == 0 {
		ps.errorf(field+".hosts", "server config must contain at least one host")
	}
	for j, h := range s.GetHosts() {
		for _, err := range checkGatewayHost(h) {
			ps.check(fieldPath(field+".hosts", j), err)
		}
	}
	portOK := validateServerPort(ps, field+".port", s.GetPort())
	if b := s.GetBind(); b != "" && !strings.HasPrefix(b, "unix://") && !isIP(b) {
		ps.errorf(field+".bind", "%s is not a valid IP", b)
	}
	validateServerTLS(ps, field+".tls", s.GetTls())
	if !portOK {
		return
	}
	p := parseProtocol(s.GetPort().GetProtocol())
	switch {
	case p.isTLS() && s.GetTls() == nil:
		ps.errorf(field+".tls", "server must have TLS settings for HTTPS/TLS protocols")
	case !p.isTLS() && s.GetTls() != nil && p.isHTTP():
		// Only httpsRedirect (which leaves the mode at its PASSTHROUGH zero value) is allowed.
		t := s.GetTls()
		passthrough := t.GetMode() == networkingv1alpha3.ServerTLSSettings_PASSTHROUGH ||
			t.GetMode() == networkingv1alpha3.ServerTLSSettings_AUTO_PASSTHROUGH
		if !passthrough || t.GetCaCertificates() != "" || t.GetPrivateKey() != "" || t.GetServerCertificate() != "" {
			ps.errorf(field+".tls", "server cannot have TLS settings for plain text HTTP ports")
		}
	case !p.isTLS() && s.GetTls() != nil:
		ps.errorf(field+".tls", "server cannot have TLS settings for non HTTPS/TLS ports")
	}
}

// validateServerPort reports whether the port is usable for the protocol checks that follow.
func validateServerPort(ps *problems, field string, port *networkingv1alpha3.Port) bool {
	if port == nil {
		ps.errorf(field, "port is required")
		return false
	}
	n := len(ps.list)
	if parseProtocol(port.GetProtocol()) == protocolUnsupported {
		ps.errorf(field+".protocol", "invalid protocol %q, supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP", port.GetProtocol())
	}
	ps.check(field+".number", checkPort(int(port.GetNumber())))
	if port.GetName() == "" {
		ps.errorf(field+".name", "port name must be set")
	}
	return len(ps.list) == n
}

// checkGatewayHost checks a server host "[namespace/]dnsName" (Istio
// ValidateNamespaceSlashWildcardHostname for gateways).
func checkGatewayHost(h string) []error {
	ns, name, hasNS := strings.Cut(h, "/")
	if !hasNS {
		return checkGatewayHostname(h)
	}
	var errs []error
	if ns == "" || name == "" {
		errs = append(errs, fmt.Errorf("config namespace and dnsName in host entry cannot be empty"))
	}
	if ns != "*" && ns != "." && !isDNSLabel(ns) {
		errs = append(errs, fmt.Errorf("invalid namespace value %q in gateway", ns))
	}
	return append(errs, checkGatewayHostname(name)...)
}

func checkGatewayHostname(h string) []error {
	var errs []error
	if h != "*" && !strings.Contains(h, ".") {
		errs = append(errs, fmt.Errorf("short names (non FQDN) are not allowed"))
	}
	if err := checkWildcardDomain(h); err != nil && !isIP(h) {
		errs = append(errs, err)
	}
	if strings.Contains(h, "*") && h != "*" && !strings.HasPrefix(h, "*.") {
		errs = append(errs, fmt.Errorf("partial wildcard %q not allowed", h))
	}
	return errs
}

package model

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Shared checks for the networking kinds, with Istio's wording (istio/istio
// pkg/config/validation/agent/validation.go) so users can search for the messages.

// dnsLabel is RFC 1123's label: lower case alphanumerics and '-', not at either end.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func isDNSLabel(s string) bool { return len(s) <= 63 && dnsLabel.MatchString(s) }

// isWildcardDNSLabel accepts a label, "*", or "*" followed by a label ("*foo").
func isWildcardDNSLabel(s string) bool {
	if s == "*" {
		return true
	}
	return strings.HasPrefix(s, "*") && isDNSLabel(s[1:]) || isDNSLabel(s)
}

func checkDomainLength(domain string) error {
	if len(domain) > 255 {
		return fmt.Errorf("domain name %q too long (max 255)", domain)
	}
	if domain == "" {
		return fmt.Errorf("empty domain name not allowed")
	}
	return nil
}

// checkDNSLabels checks the labels of part, the whole or a suffix of domain.
func checkDNSLabels(domain, part string) error {
	parts := strings.Split(part, ".")
	if _, err := strconv.Atoi(parts[len(parts)-1]); err == nil {
		return fmt.Errorf("domain name %q invalid (top level domain %q cannot be all-numeric)", domain, parts[len(parts)-1])
	}
	for i, label := range parts {
		if i == len(parts)-1 && label == "" {
			return nil // a trailing dot makes a name absolute
		}
		if !isDNSLabel(label) {
			return fmt.Errorf("domain name %q invalid (label %q invalid)", domain, label)
		}
	}
	return nil
}

// checkFQDN accepts a DNS name without wildcards.
func checkFQDN(domain string) error {
	if err := checkDomainLength(domain); err != nil {
		return err
	}
	return checkDNSLabels(domain, domain)
}

// checkWildcardDomain accepts a DNS name whose first label may be a wildcard.
func checkWildcardDomain(domain string) error {
	if err := checkDomainLength(domain); err != nil {
		return err
	}
	first, rest, more := strings.Cut(domain, ".")
	if !isWildcardDNSLabel(first) {
		return fmt.Errorf("domain name %q invalid (label %q invalid)", domain, first)
	}
	if more {
		return checkDNSLabels(domain, rest)
	}
	return nil
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func checkPort(port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("port number %d must be in the range 1..65535", port)
	}
	return nil
}

func checkPortName(name string) error {
	if !isDNSLabel(name) {
		return fmt.Errorf("invalid port name: %s", name)
	}
	return nil
}

// protocol is Istio's port protocol (istio/istio pkg/config/protocol), parsed case-insensitively.
type protocol string

const protocolUnsupported protocol = ""

func parseProtocol(s string) protocol {
	switch p := strings.ToUpper(s); p {
	case "TCP", "UDP", "GRPC", "GRPC-WEB", "HTTP", "HTTP_PROXY", "HTTP2", "HTTPS", "TLS", "MONGO", "REDIS", "MYSQL":
		return protocol(p)
	}
	return protocolUnsupported
}

func (p protocol) isHTTP() bool {
	return p == "HTTP" || p == "HTTP2" || p == "HTTP_PROXY" || p == "GRPC" || p == "GRPC-WEB"
}

func (p protocol) isTLS() bool { return p == "HTTPS" || p == "TLS" }

// problems collects the findings about one object, so each check is one line.
type problems struct {
	meta *Meta
	list []Problem
}

func (ps *problems) errorf(field, format string, args ...any) {
	ps.list = append(ps.list, ProblemFor(ps.meta, SeverityError, field, format, args...))
}

func (ps *problems) warnf(field, format string, args ...any) {
	ps.list = append(ps.list, ProblemFor(ps.meta, SeverityWarning, field, format, args...))
}

// check records err, if any, as an error on field.
func (ps *problems) check(field string, err error) {
	if err != nil {
		ps.errorf(field, "%s", err.Error())
	}
}

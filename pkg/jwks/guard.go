package jwks

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// hostAllowed reports whether u's host is on the allow-list; an empty list allows every host.
// "*.example.com" matches any subdomain of example.com but not example.com itself.
func hostAllowed(allowed []string, u *url.URL) bool {
	if len(allowed) == 0 {
		return true
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	for _, a := range allowed {
		a = strings.ToLower(strings.TrimSuffix(a, "."))
		if suffix, ok := strings.CutPrefix(a, "*."); ok {
			if strings.HasSuffix(host, "."+suffix) {
				return true
			}
		} else if host == a {
			return true
		}
	}
	return false
}

// checkURL checks the scheme and the allow-list of one request or redirect target.
func checkURL(allowed []string, u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return &fetchError{reason: reasonInvalidURI, err: fmt.Errorf("%q is not an absolute http or https URL", u.Redacted())}
	}
	if !hostAllowed(allowed, u) {
		return &fetchError{reason: reasonBlocked, err: fmt.Errorf("host %q is not in the allowed jwks hosts: %w", u.Hostname(), errBlocked)}
	}
	return nil
}

// denyPrivateControl is a net.Dialer Control function: it runs after name resolution on the
// exact address about to be dialled, so neither a DNS answer nor a redirect can slip a
// private address past it.
func denyPrivateControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s %s: unparsable address: %w", network, address, errBlocked)
	}
	if reason := privateAddress(ap.Addr().Unmap()); reason != "" {
		return fmt.Errorf("dial %s: %s address: %w", address, reason, errBlocked)
	}
	return nil
}

// sharedAddressSpace is RFC 6598 carrier-grade NAT space, private in practice though
// netip.Addr.IsPrivate does not say so.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// privateAddress names the class of a non-public address ("loopback", ...), or "".
func privateAddress(a netip.Addr) string {
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local" // includes 169.254.169.254, the cloud metadata service
	case a.IsPrivate(), sharedAddressSpace.Contains(a):
		return "private"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return "multicast"
	}
	return ""
}

package ca

import (
	"fmt"
	"net/url"
	"strings"
)

// Identity is a workload identity, the SPIFFE ID spiffe://TrustDomain/ns/Namespace/sa/ServiceAccount.
// An empty TrustDomain in an argument to the CA means the CA's own trust domain.
type Identity struct {
	TrustDomain, Namespace, ServiceAccount string
}

// URI is the identity as the URI SAN of a certificate.
func (id Identity) URI() *url.URL {
	return &url.URL{Scheme: "spiffe", Host: id.TrustDomain, Path: "/ns/" + id.Namespace + "/sa/" + id.ServiceAccount}
}

// String is the SPIFFE ID.
func (id Identity) String() string { return id.URI().String() }

// ParseSPIFFEID parses spiffe://td/ns/N/sa/S, the only form of workload ID this control
// plane issues or accepts.
func ParseSPIFFEID(s string) (Identity, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Identity{}, fmt.Errorf("parse SPIFFE ID %q: %w", s, err)
	}
	return identityFromURI(u)
}

func identityFromURI(u *url.URL) (Identity, error) {
	s := u.String()
	if u.Scheme != "spiffe" || u.Opaque != "" || u.User != nil || u.Port() != "" ||
		u.RawQuery != "" || u.Fragment != "" || u.RawPath != "" {
		return Identity{}, fmt.Errorf("SPIFFE ID %q: want spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>", s)
	}
	parts := strings.Split(u.Path, "/")
	if len(parts) != 5 || parts[0] != "" || parts[1] != "ns" || parts[3] != "sa" {
		return Identity{}, fmt.Errorf("SPIFFE ID %q: path must be /ns/<namespace>/sa/<service-account>", s)
	}
	id := Identity{TrustDomain: u.Host, Namespace: parts[2], ServiceAccount: parts[4]}
	if err := id.validate(); err != nil {
		return Identity{}, fmt.Errorf("SPIFFE ID %q: %w", s, err)
	}
	return id, nil
}

// validate checks that every part is non-empty and made of characters that need no escaping
// in a URI, so that the string form and the parsed form of an identity are one-to-one.
func (id Identity) validate() error {
	if err := checkTrustDomain(id.TrustDomain); err != nil {
		return err
	}
	if err := checkName("namespace", id.Namespace); err != nil {
		return err
	}
	return checkName("service account", id.ServiceAccount)
}

// checkTrustDomain applies the SPIFFE trust domain alphabet: lower-case letters, digits, '.',
// '-' and '_'.
func checkTrustDomain(td string) error {
	if td == "" || len(td) > 255 {
		return fmt.Errorf("trust domain %q: must have 1 to 255 characters", td)
	}
	for _, r := range td {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return fmt.Errorf("trust domain %q: only a-z, 0-9, '.', '-' and '_' are allowed", td)
		}
	}
	return nil
}

// checkName accepts Kubernetes namespace and service account names (DNS subdomains), plus
// upper case and '_' for file-sourced proxies; anything else would need escaping in the SAN.
func checkName(what, s string) error {
	if s == "" || len(s) > 253 {
		return fmt.Errorf("%s %q: must have 1 to 253 characters", what, s)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return fmt.Errorf("%s %q: only letters, digits, '.', '-' and '_' are allowed", what, s)
		}
	}
	if s == "." || s == ".." {
		return fmt.Errorf("%s %q: not a name", what, s)
	}
	return nil
}

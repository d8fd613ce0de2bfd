package translate_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// This file models how Envoy interprets the TLS fields we emit, with Go's crypto/tls, so the
// handshake tests exercise the translated contexts rather than hand-written configs.

// sds stands in for the SDS server: names resolve to a certificate or a CA pool at handshake
// time, so replacing an entry models rotation.
type sds struct {
	certs map[string]*tls.Certificate
	cas   map[string]*x509.CertPool
}

func (s *sds) cert(name string) (*tls.Certificate, error) {
	if c := s.certs[name]; c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("sds: no certificate %q (Envoy would wait, then fail the handshake)", name)
}

// cipherIDs maps the BoringSSL names we emit to Go's suites.
func cipherIDs(t *testing.T, names []string) []uint16 {
	known := map[string]uint16{
		"ECDHE-ECDSA-AES256-GCM-SHA384": tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		"ECDHE-RSA-AES256-GCM-SHA384":   tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		"ECDHE-ECDSA-AES128-GCM-SHA256": tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		"ECDHE-RSA-AES128-GCM-SHA256":   tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		"AES256-GCM-SHA384":             tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
		"AES128-GCM-SHA256":             tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	}
	var out []uint16
	for _, n := range names {
		id, ok := known[n]
		if !ok {
			t.Fatalf("cipher suite %q has no Go equivalent in this model", n)
		}
		out = append(out, id)
	}
	return out
}

func tlsVersion(p tlsv3.TlsParameters_TlsProtocol, dflt uint16) uint16 {
	switch p {
	case tlsv3.TlsParameters_TLSv1_0:
		return tls.VersionTLS10
	case tlsv3.TlsParameters_TLSv1_1:
		return tls.VersionTLS11
	case tlsv3.TlsParameters_TLSv1_2:
		return tls.VersionTLS12
	case tlsv3.TlsParameters_TLSv1_3:
		return tls.VersionTLS13
	}
	return dflt
}

// validation is a CertificateValidationContext as Envoy applies it: chain to the trusted CA
// (from SDS or inline), then the typed SAN matchers (any matcher matching any SAN of its type).
type validation struct {
	roots *x509.CertPool
	sans  []*tlsv3.SubjectAltNameMatcher
	skip  bool // empty validation context: nothing is verified
}

func validationOf(t *testing.T, c *tlsv3.CommonTlsContext, s *sds) validation {
	t.Helper()
	if vc := c.GetValidationContext(); vc != nil {
		if vc.GetTrustedCa() == nil {
			return validation{skip: true}
		}
		t.Fatalf("file-based trusted_ca %q is not modelled", vc.GetTrustedCa().GetFilename())
	}
	cv := c.GetCombinedValidationContext()
	name := cv.GetValidationContextSdsSecretConfig().GetName()
	return validation{roots: s.cas[name], sans: cv.GetDefaultValidationContext().GetMatchTypedSubjectAltNames()}
}

func (v validation) verify(rawCerts [][]byte) error {
	if v.skip {
		return nil
	}
	if len(rawCerts) == 0 {
		return errors.New("no peer certificate")
	}
	if v.roots == nil {
		return errors.New("validation CA not served")
	}
	leaf, err := x509.ParseCertificate(rawCerts[0])
	if err != nil {
		return err
	}
	inter := x509.NewCertPool()
	for _, r := range rawCerts[1:] {
		if c, err := x509.ParseCertificate(r); err == nil {
			inter.AddCert(c)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return err
	}
	if len(v.sans) == 0 {
		return nil
	}
	for _, m := range v.sans {
		var values []string
		switch m.GetSanType() {
		case tlsv3.SubjectAltNameMatcher_URI:
			for _, u := range leaf.URIs {
				values = append(values, u.String())
			}
		case tlsv3.SubjectAltNameMatcher_DNS:
			values = leaf.DNSNames
		}
		for _, val := range values {
			if p := m.GetMatcher().GetPrefix(); p != "" && strings.HasPrefix(val, p) {
				return nil
			}
			if e := m.GetMatcher().GetExact(); e != "" && val == e {
				return nil
			}
		}
	}
	return errors.New("peer certificate SANs match no subject_alt_names matcher")
}

// serverConfig is a DownstreamTlsContext as Envoy serves it. ALPN is chosen per handshake the
// way Envoy does: the first server protocol the client offers, or none (no handshake failure).
func serverConfig(t *testing.T, d *tlsv3.DownstreamTlsContext, s *sds) *tls.Config {
	t.Helper()
	c := d.GetCommonTlsContext()
	certName := c.GetTlsCertificateSdsSecretConfigs()[0].GetName()
	v := validationOf(t, c, s)
	cfg := &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.cert(certName) },
		MinVersion:     tlsVersion(c.GetTlsParams().GetTlsMinimumProtocolVersion(), tls.VersionTLS12),
		MaxVersion:     tlsVersion(c.GetTlsParams().GetTlsMaximumProtocolVersion(), tls.VersionTLS13),
		CipherSuites:   cipherIDs(t, c.GetTlsParams().GetCipherSuites()),
		ClientAuth:     tls.NoClientCert,
	}
	if c.GetValidationContextType() != nil {
		// Chain and SANs are checked by verify, as Envoy does with its own validator.
		cfg.ClientAuth = tls.RequestClientCert
		if d.GetRequireClientCertificate().GetValue() {
			cfg.ClientAuth = tls.RequireAnyClientCert
		}
		cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return nil // only reached when a certificate is optional
			}
			return v.verify(raw)
		}
	}
	alpn := c.GetAlpnProtocols()
	return &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		per := cfg.Clone()
		for _, p := range alpn {
			if slices.Contains(h.SupportedProtos, p) {
				per.NextProtos = []string{p}
				break
			}
		}
		return per, nil
	}}
}

// clientConfig is an UpstreamTlsContext as Envoy originates it: SNI from sni, no host name
// check (only the validation context), the SDS certificate if one is named.
func clientConfig(t *testing.T, u *tlsv3.UpstreamTlsContext, s *sds) *tls.Config {
	t.Helper()
	c := u.GetCommonTlsContext()
	v := validationOf(t, c, s)
	cfg := &tls.Config{
		ServerName:         u.GetSni(),
		NextProtos:         c.GetAlpnProtocols(),
		InsecureSkipVerify: true, // replaced by VerifyPeerCertificate below
		MinVersion:         tlsVersion(c.GetTlsParams().GetTlsMinimumProtocolVersion(), tls.VersionTLS12),
		MaxVersion:         tlsVersion(c.GetTlsParams().GetTlsMaximumProtocolVersion(), tls.VersionTLS13),
		CipherSuites:       cipherIDs(t, c.GetTlsParams().GetCipherSuites()),
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			return v.verify(raw)
		},
	}
	if cs := c.GetTlsCertificateSdsSecretConfigs(); len(cs) > 0 {
		name := cs[0].GetName()
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return s.cert(name) }
	}
	return cfg
}

// selectChain is Envoy's filter chain matcher for the criteria we emit, in its order:
// destination_port, server_names, transport_protocol, application_protocols. At each step the
// chains naming the connection's value win over chains leaving the field empty; chains naming
// another value drop out. No chain left: the connection is closed.
func selectChain(chains []*listenerv3.FilterChain, port uint32, sni, transport string, alpn []string) *listenerv3.FilterChain {
	steps := []func(*listenerv3.FilterChainMatch) (specific, matches bool){
		func(m *listenerv3.FilterChainMatch) (bool, bool) {
			return m.GetDestinationPort() != nil, m.GetDestinationPort().GetValue() == port
		},
		func(m *listenerv3.FilterChainMatch) (bool, bool) {
			return len(m.GetServerNames()) > 0, slices.Contains(m.GetServerNames(), sni)
		},
		func(m *listenerv3.FilterChainMatch) (bool, bool) {
			return m.GetTransportProtocol() != "", m.GetTransportProtocol() == transport
		},
		func(m *listenerv3.FilterChainMatch) (bool, bool) {
			return len(m.GetApplicationProtocols()) > 0, slices.ContainsFunc(alpn, func(p string) bool {
				return slices.Contains(m.GetApplicationProtocols(), p)
			})
		},
	}
	left := chains
	for _, step := range steps {
		var specific, generic []*listenerv3.FilterChain
		for _, c := range left {
			s, ok := step(c.GetFilterChainMatch())
			switch {
			case s && ok:
				specific = append(specific, c)
			case !s:
				generic = append(generic, c)
			}
		}
		left = specific
		if len(left) == 0 {
			left = generic
		}
	}
	if len(left) != 1 {
		return nil
	}
	return left[0]
}

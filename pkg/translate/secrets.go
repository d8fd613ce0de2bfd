package translate

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// Credential SDS names (SEMANTICS.md §6.3, §7.3) and the Secrets each reads are model's rule
// (model.CredentialSecrets), shared with the Kubernetes source, which watches those Secrets.
const (
	kubernetesScheme = model.CredentialScheme
	caSuffix         = model.CredentialCASuffix
)

func builtin(cn string) bool { return strings.HasPrefix(cn, "builtin://") }

// now is the time certificates are checked against; zero skips the expiry check.
func (in Inputs) now() time.Time { return in.Now }

// credentialProblems checks a credential where it is referenced, so the problem names the
// object and field. A credential that cannot be served leaves its SDS name unanswered: the
// handshakes of that chain or cluster fail, nothing falls back to plaintext or another cert.
func credentialProblems(in Inputs, m *model.Meta, field, certName string, needCA bool) []model.Problem {
	var problems []model.Problem
	_, reason, warning := credentialCert(in, certName)
	if reason != "" {
		problems = append(problems, model.ProblemFor(m, model.SeverityError, field,
			"credential %s: %s; TLS handshakes using it fail until it is fixed", certName, reason))
	}
	if warning != "" {
		problems = append(problems, model.ProblemFor(m, model.SeverityWarning, field, "credential %s: %s", certName, warning))
	}
	if needCA && reason == "" {
		if _, reason := credentialCA(in, certName+caSuffix); reason != "" {
			problems = append(problems, model.ProblemFor(m, model.SeverityError, field,
				"credential %s%s: %s; TLS handshakes using it fail until it is fixed", certName, caSuffix, reason))
		}
	}
	return problems
}

// secretFor finds the Secret an SDS name reads: the first of model.CredentialSecrets that
// exists (a CA bundle "N-cacert": Secret N-cacert, else N). Only the proxy's own namespace is
// served to it. The reason is that of the last candidate.
func secretFor(in Inputs, sdsName string, ca bool) (*model.Secret, string) {
	refs := model.CredentialSecrets(sdsName, ca)
	if len(refs) == 0 {
		if !strings.HasPrefix(sdsName, kubernetesScheme) {
			return nil, "only kubernetes:// credentials are served by this control plane"
		}
		return nil, fmt.Sprintf("%s names no Secret", sdsName)
	}
	var reason string
	for _, ref := range refs {
		ns := cmp.Or(ref.Namespace, in.Proxy.Namespace)
		if ns != in.Proxy.Namespace {
			reason = fmt.Sprintf("secret %s/%s is not in the proxy's namespace %s and is not served to it", ns, ref.Name, in.Proxy.Namespace)
			continue
		}
		if s := in.Store.Secret(ns, ref.Name); s != nil {
			return s, ""
		}
		reason = fmt.Sprintf("secret %s/%s not found", ns, ref.Name)
	}
	return nil, reason
}

// credentialCert builds the certificate secret for an SDS name, or says why it cannot be
// served. Generic keys (cert, key) win over kubernetes.io/tls keys, as in Istio.
func credentialCert(in Inputs, sdsName string) (*tlsv3.Secret, string, string) {
	s, reason := secretFor(in, sdsName, false)
	if s == nil {
		return nil, reason, ""
	}
	certKey, keyKey, staple := "tls.crt", "tls.key", "tls.ocsp-staple"
	if _, ok := s.Data["cert"]; ok {
		certKey, keyKey, staple = "cert", "key", ""
	} else if _, ok := s.Data["tls.crt"]; !ok {
		return nil, fmt.Sprintf("found secret, but didn't have expected keys (cert and key) or (tls.crt and tls.key); found: %s",
			strings.Join(slices.Sorted(maps.Keys(s.Data)), ", ")), ""
	}
	cert, key := s.Data[certKey], s.Data[keyKey]
	if len(cert) == 0 || len(key) == 0 {
		return nil, fmt.Sprintf("found keys %q and %q, but they were empty", certKey, keyKey), ""
	}
	reason, warning := checkKeyPair(cert, key, in.now())
	if reason != "" {
		return nil, reason, ""
	}
	tc := &tlsv3.TlsCertificate{CertificateChain: inlineBytes(cert), PrivateKey: inlineBytes(key)}
	if b := s.Data[staple]; staple != "" && len(b) > 0 {
		tc.OcspStaple = inlineBytes(b)
	}
	return &tlsv3.Secret{Name: sdsName, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: tc}}, "", warning
}

// checkKeyPair refuses what Envoy would reject (unparsable PEM, a key that does not match the
// certificate) and warns about an expired certificate, which Envoy serves but clients refuse.
func checkKeyPair(cert, key []byte, now time.Time) (string, string) {
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return fmt.Sprintf("certificate and key are not a usable pair: %v", err), ""
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Sprintf("certificate does not parse: %v", err), ""
	}
	if !now.IsZero() && now.After(leaf.NotAfter) {
		return "", fmt.Sprintf("certificate expired at %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return "", ""
}

// credentialCA builds the CA bundle secret for "<name>-cacert".
func credentialCA(in Inputs, sdsName string) (*tlsv3.Secret, string) {
	s, reason := secretFor(in, sdsName, true)
	if s == nil {
		return nil, reason
	}
	caKey, crlKey := "ca.crt", "ca.crl"
	if _, ok := s.Data["cacert"]; ok {
		caKey, crlKey = "cacert", "crl"
	}
	ca := s.Data[caKey]
	if len(ca) == 0 {
		return nil, fmt.Sprintf("secret %s/%s has no CA bundle (key ca.crt or cacert)", s.Namespace, s.Name)
	}
	if reason := checkCABundle(ca); reason != "" {
		return nil, fmt.Sprintf("secret %s/%s: %s", s.Namespace, s.Name, reason)
	}
	vc := &tlsv3.CertificateValidationContext{TrustedCa: inlineBytes(ca)}
	if crl := s.Data[crlKey]; len(crl) > 0 {
		vc.Crl = inlineBytes(crl)
	}
	return &tlsv3.Secret{Name: sdsName, Type: &tlsv3.Secret_ValidationContext{ValidationContext: vc}}, ""
}

// checkCABundle requires at least one certificate and every PEM block to parse.
func checkCABundle(b []byte) string {
	n := 0
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Sprintf("CA certificate %d does not parse: %v", n, err)
		}
		n++
	}
	if n == 0 {
		return "CA bundle holds no PEM certificate"
	}
	return ""
}

func inlineBytes(b []byte) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: b}}
}

// credentialSecrets serves the kubernetes:// credentials the resources name: every SDS name in
// a listener's or cluster's TLS context, as a certificate or (validation SDS) a CA bundle.
// Names that cannot be served are left out, so the chains using them fail their handshakes
// instead of serving without TLS (they were reported where referenced), and returned as
// unanswered for the serving layer's reference check. The workload names ("default",
// "ROOTCA") are neither: the serving layer delivers them per proxy.
func credentialSecrets(in Inputs, r Resources) (served []*tlsv3.Secret, unanswered []string) {
	certs, cas := map[string]bool{}, map[string]bool{}
	collect := func(c *tlsv3.CommonTlsContext) {
		for _, s := range c.GetTlsCertificateSdsSecretConfigs() {
			certs[s.GetName()] = true
		}
		if v := c.GetCombinedValidationContext().GetValidationContextSdsSecretConfig(); v != nil {
			cas[v.GetName()] = true
		}
	}
	// Memoised outbound clusters carry no DestinationRule TLS, hence no credential: unpacking
	// their sockets for every group was a third of a sidecar group's translation.
	memo := clusterMemoOf(in.Store)
	for _, ts := range transportSockets(r, memo.holds) {
		down, up := &tlsv3.DownstreamTlsContext{}, &tlsv3.UpstreamTlsContext{}
		switch {
		case ts.GetTypedConfig().MessageIs(down) && ts.GetTypedConfig().UnmarshalTo(down) == nil:
			collect(down.GetCommonTlsContext())
		case ts.GetTypedConfig().MessageIs(up) && ts.GetTypedConfig().UnmarshalTo(up) == nil:
			collect(up.GetCommonTlsContext())
		}
	}
	for _, n := range slicesSortedKeys(certs) {
		if s, _, _ := credentialCert(in, n); s != nil && strings.HasPrefix(n, kubernetesScheme) {
			served = append(served, s)
		} else if n != sdsWorkloadCert {
			unanswered = append(unanswered, n)
		}
	}
	for _, n := range slicesSortedKeys(cas) {
		if s, _ := credentialCA(in, n); s != nil && strings.HasPrefix(n, kubernetesScheme) {
			served = append(served, s)
		} else if n != sdsRootCA {
			unanswered = append(unanswered, n)
		}
	}
	slices.Sort(unanswered)
	return served, slices.Compact(unanswered)
}

// transportSockets lists the listeners' and clusters' transport sockets, but those of the
// clusters skip reports.
func transportSockets(r Resources, skip func(*clusterv3.Cluster) bool) []*corev3.TransportSocket {
	var out []*corev3.TransportSocket
	for _, l := range r.Listeners {
		for _, c := range l.GetFilterChains() {
			out = append(out, c.GetTransportSocket())
		}
	}
	for _, c := range r.Clusters {
		if skip(c) {
			continue
		}
		out = append(out, c.GetTransportSocket())
		for _, m := range c.GetTransportSocketMatches() {
			out = append(out, m.GetTransportSocket())
		}
	}
	return out
}

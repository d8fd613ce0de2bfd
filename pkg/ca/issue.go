package ca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"
)

// Kinds of issued certificates, the kind label of controlplane_ca_certificates_issued_total.
const (
	kindWorkload  = "workload"
	kindBootstrap = "bootstrap"
	kindServing   = "serving"
)

// Issue signs a new workload certificate for id with a fresh ECDSA P-256 key, valid for
// Options.WorkloadTTL. It does not touch the cache; proxies get theirs through Certificate.
func (c *CA) Issue(id Identity) (*Certificate, error) {
	return c.issueIdentity(id, c.opts.WorkloadTTL, kindWorkload)
}

// IssueBootstrap signs a client certificate for id valid for ttl (default WorkloadTTL), for
// `controlplane ca issue`: an operator hands it to a proxy so its first ADS connection can
// prove id over mutual TLS. It is not cached and not rotated.
func (c *CA) IssueBootstrap(id Identity, ttl time.Duration) (*Certificate, error) {
	if ttl <= 0 {
		ttl = c.opts.WorkloadTTL
	}
	return c.issueIdentity(id, ttl, kindBootstrap)
}

func (c *CA) issueIdentity(id Identity, ttl time.Duration, kind string) (*Certificate, error) {
	id, err := c.normalize(id)
	if err != nil {
		return nil, err
	}
	cert, err := c.sign(&x509.Certificate{
		// An empty subject makes crypto/x509 mark the SAN extension critical (RFC 5280
		// §4.2.1.6), as in Istio's workload certificates: the identity is the URI SAN alone.
		URIs:        []*url.URL{id.URI()},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}, ttl, kind)
	if err != nil {
		return nil, fmt.Errorf("issue certificate for %s: %w", id, err)
	}
	cert.Identity = id
	c.log.Debug("issued certificate", "kind", kind, "namespace", id.Namespace, "name", id.ServiceAccount)
	return cert, nil
}

// issueServing signs a server certificate for the control plane's own ADS endpoint.
func (c *CA) issueServing(dnsNames []string, ips []net.IP, ttl time.Duration) (*Certificate, error) {
	cert, err := c.sign(&x509.Certificate{
		DNSNames:    dnsNames,
		IPAddresses: ips,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ttl, kindServing)
	if err != nil {
		return nil, fmt.Errorf("issue serving certificate for %v: %w", dnsNames, err)
	}
	return cert, nil
}

// normalize fills in the CA's trust domain and refuses identities of other trust domains: an
// alias is accepted from peers but never issued, so every certificate names the one domain.
func (c *CA) normalize(id Identity) (Identity, error) {
	if id.TrustDomain == "" {
		id.TrustDomain = c.opts.TrustDomain
	}
	if err := id.validate(); err != nil {
		return Identity{}, fmt.Errorf("identity %s: %w", id, err)
	}
	if id.TrustDomain != c.opts.TrustDomain {
		return Identity{}, fmt.Errorf("identity %s: trust domain must be %q", id, c.opts.TrustDomain)
	}
	return id, nil
}

// sign completes tmpl (serial, validity), signs it over a fresh P-256 key and encodes the
// result. NotAfter never passes the signing certificate's, so a leaf never outlives its chain.
func (c *CA) sign(tmpl *x509.Certificate, ttl time.Duration, kind string) (*Certificate, error) {
	now := c.opts.Now()
	issuer := c.signer.cert
	notAfter := now.Add(ttl)
	if notAfter.After(issuer.NotAfter) {
		notAfter = issuer.NotAfter
	}
	if !notAfter.After(now) {
		return nil, fmt.Errorf("signing certificate expired at %s", issuer.NotAfter.Format(time.RFC3339))
	}
	notBefore := now.Add(-clockSkew)
	if notBefore.Before(issuer.NotBefore) {
		notBefore = issuer.NotBefore
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = serial, notBefore, notAfter
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), c.signer.key)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	c.metrics.issued.WithLabelValues(kind).Inc()
	// Rotation counts from now, not from the backdated NotBefore, so a 24h certificate is
	// replaced 12h after it was issued.
	refresh := now.Add(time.Duration(float64(notAfter.Sub(now)) * c.opts.RotateAt))
	return &Certificate{
		CertChainPEM: append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), c.signer.chainPEM...),
		KeyPEM:       pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		RefreshAt:    refresh,
	}, nil
}

// newSerial is a random positive 128-bit serial number (RFC 5280 allows up to 20 octets).
func newSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

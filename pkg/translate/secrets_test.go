package translate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// selfSigned returns a PEM certificate valid in [notBefore, notAfter] and its PEM key.
func selfSigned(t *testing.T, notBefore, notAfter time.Time) ([]byte, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: notBefore, NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}

func TestCheckKeyPair(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	cert, key := selfSigned(t, now.Add(-48*time.Hour), now.Add(-time.Hour))
	_, otherKey := selfSigned(t, now, now.Add(time.Hour))
	tests := map[string]struct {
		cert, key            []byte
		now                  time.Time
		wantReason, wantWarn string
	}{
		"valid pair, no clock":      {cert: cert, key: key},
		"expired is only a warning": {cert: cert, key: key, now: now, wantWarn: "certificate expired at 2026-07-31T23:00:00Z"},
		"key of another cert":       {cert: cert, key: otherKey, wantReason: "private key does not match public key"},
		"not PEM":                   {cert: []byte("garbage"), key: key, wantReason: "not a usable pair"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			reason, warn := checkKeyPair(tc.cert, tc.key, tc.now)
			if (tc.wantReason == "") != (reason == "") || !strings.Contains(reason, tc.wantReason) {
				t.Errorf("reason = %q, want containing %q", reason, tc.wantReason)
			}
			if warn != tc.wantWarn {
				t.Errorf("warning = %q, want %q", warn, tc.wantWarn)
			}
		})
	}
}

func TestCredentialResolution(t *testing.T) {
	t.Parallel()
	cert, key := selfSigned(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	otherCert, otherKey := selfSigned(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	secret := func(ns, name string, data map[string][]byte) model.Object {
		return &model.Secret{Meta: model.Meta{Kind: model.KindSecret, Namespace: ns, Name: name}, Data: data}
	}
	in := Inputs{
		Proxy: model.Proxy{Namespace: "gw"},
		Store: model.NewStore(model.Mesh{}, []model.Object{
			secret("gw", "both", map[string][]byte{"cert": otherCert, "key": otherKey, "tls.crt": cert, "tls.key": key, "ca.crt": cert}),
			secret("gw", "both-cacert", map[string][]byte{"cacert": otherCert}),
			secret("gw", "empty", map[string][]byte{"tls.crt": {}, "tls.key": {}}),
			secret("gw", "wrong-keys", map[string][]byte{"foo": cert}),
			secret("gw", "no-ca", map[string][]byte{"tls.crt": cert, "tls.key": key}),
			secret("other", "foreign", map[string][]byte{"tls.crt": cert, "tls.key": key}),
		}),
	}
	// Generic keys win over kubernetes.io/tls keys.
	s, reason, _ := credentialCert(in, "kubernetes://both")
	if reason != "" || string(s.GetTlsCertificate().GetCertificateChain().GetInlineBytes()) != string(otherCert) {
		t.Errorf("both: reason %q, want the generic cert", reason)
	}
	// The CA comes from <name>-cacert when that Secret exists.
	ca, reason := credentialCA(in, "kubernetes://both-cacert")
	if reason != "" || string(ca.GetValidationContext().GetTrustedCa().GetInlineBytes()) != string(otherCert) {
		t.Errorf("both-cacert: reason %q, want the CA of Secret both-cacert", reason)
	}
	for name, want := range map[string]string{
		"kubernetes://empty":         `found keys "tls.crt" and "tls.key", but they were empty`,
		"kubernetes://wrong-keys":    "didn't have expected keys (cert and key) or (tls.crt and tls.key); found: foo",
		"kubernetes://missing":       "secret gw/missing not found",
		"kubernetes://other/foreign": "not in the proxy's namespace gw",
		"configmap://gw/ca":          "only kubernetes:// credentials",
	} {
		if s, reason, _ := credentialCert(in, name); s != nil || !strings.Contains(reason, want) {
			t.Errorf("%s: secret %v, reason %q, want containing %q", name, s, reason, want)
		}
	}
	if ca, reason := credentialCA(in, "kubernetes://no-ca-cacert"); ca != nil || !strings.Contains(reason, "no CA bundle") {
		t.Errorf("no-ca: %v %q", ca, reason)
	}
}

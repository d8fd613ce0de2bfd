package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// t0 is the fake clock's start; far from any real date so a test relying on time.Now fails.
var t0 = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: t0} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = t
}

// newTestCA is a CA over a fresh directory and clock (nil: the real one, for tests whose TLS
// stack checks validity against time.Now), with opts' other fields kept.
func newTestCA(t *testing.T, clock *fakeClock, opts Options) *CA {
	t.Helper()
	if opts.Dir == "" && opts.Store == nil && opts.CertFile == "" {
		opts.Dir = t.TempDir()
	}
	if clock != nil {
		opts.Now = clock.Now
	}
	c, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a slog handler.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func debugLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testCert is a CA or leaf certificate made by hand, for the file-based and peer tests.
type testCert struct {
	cert *x509.Certificate
	key  crypto.Signer
}

type certSpec struct {
	parent    *testCert // nil: self-signed
	isCA      bool
	notBefore time.Time
	notAfter  time.Time
	uris      []string
	key       crypto.Signer // nil: a new P-256 key
}

func makeCert(t *testing.T, s certSpec) *testCert {
	t.Helper()
	key := s.key
	if key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key = k
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "test " + serial.String()},
		NotBefore: s.notBefore, NotAfter: s.notAfter,
		IsCA: s.isCA, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	if s.isCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		tmpl.ExtKeyUsage = nil
	}
	for _, u := range s.uris {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, pu)
	}
	parent, parentKey := tmpl, key
	if s.parent != nil {
		parent, parentKey = s.parent.cert, s.parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCert{cert: cert, key: key}
}

func (c *testCert) certPEM() []byte { return encodeCerts(c.cert) }

// write puts c's certificate and key (PKCS#8) into dir and returns their paths.
func (c *testCert) write(t *testing.T, dir, stem string) (certPath, keyPath string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.key)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, stem+"-cert.pem", c.certPEM()),
		writeFile(t, dir, stem+"-key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// parseLeaf returns the first certificate of a chain and a pool of the rest.
func parseLeaf(t *testing.T, chainPEM []byte) (*x509.Certificate, *x509.CertPool) {
	t.Helper()
	certs, err := parseCerts(chainPEM)
	if err != nil {
		t.Fatal(err)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	return certs[0], inter
}

func poolOf(t *testing.T, pemData []byte) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pemData) {
		t.Fatal("no certificate in PEM")
	}
	return p
}

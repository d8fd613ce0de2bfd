package ca

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestKeysNeverLogged drives every path that handles a key with a Debug logger and checks
// that no key reaches the log, including a Certificate logged or printed by mistake.
func TestKeysNeverLogged(t *testing.T) {
	var buf syncBuffer
	clock := newClock()
	c := newTestCA(t, clock, Options{Log: debugLogger(&buf)}) // generates and saves a root
	id := Identity{Namespace: "shop", ServiceAccount: "cart"}
	cert, err := c.Certificate(id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Secrets(id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.IssueBootstrap(id, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ServerTLS(ServerTLSOptions{DNSNames: []string{"cp"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rotated := make(chan struct{})
	done := make(chan error)
	go func() { done <- c.Run(ctx, func([]Identity) { close(rotated) }) }()
	clock.Set(t0.Add(12 * time.Hour))
	c.signal()
	<-rotated
	cancel()
	<-done
	c.log.Info("certificate by mistake", "cert", cert)
	printed := fmt.Sprint(cert) + fmt.Sprintf("%v %+v %s", cert, cert, cert)

	out := buf.String()
	if !strings.Contains(out, "issued certificate") || !strings.Contains(out, "rotated workload certificates") {
		t.Fatalf("log misses expected lines (is the logger wired?):\n%s", out)
	}
	keyBody := strings.Split(string(cert.KeyPEM), "\n")[1]
	for name, text := range map[string]string{"log": out, "fmt": printed} {
		if strings.Contains(text, "PRIVATE KEY") || strings.Contains(text, keyBody) {
			t.Errorf("%s output contains a private key:\n%s", name, text)
		}
	}
}

package envoy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startServers runs each server's application (an HTTP server answering "<workload> <path>")
// on its workload ports and, for a workload with a sidecar, the forwarder that stands in for
// its pod's iptables: <pod address>:<workload port> → the sidecar's inbound listener, while
// the application itself listens on 127.0.0.1, where the sidecar's inbound cluster points.
func (w *meshWorld) startServers(t *testing.T, servers []string) *forwarders {
	t.Helper()
	fw := &forwarders{}
	for _, name := range servers {
		wl := w.workloads[name]
		for _, sp := range wl.services {
			addr := net.JoinHostPort(wl.address, fmt.Sprint(sp.ourTarget))
			if wl.sidecar {
				fw.listen(t, addr, fmt.Sprintf("127.0.0.1:%d", wl.inbound[sp.ourTarget]))
				addr = fmt.Sprintf("127.0.0.1:%d", sp.ourTarget)
			}
			l, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(rw, "%s %s\n", name, r.URL.Path)
			}), ReadHeaderTimeout: 5 * time.Second}
			go srv.Serve(l)
			t.Cleanup(func() { srv.Close() })
		}
	}
	return fw
}

// forwarders copy connections to a sidecar's inbound listener, as REDIRECT would. A
// connection the sidecar resets is reset towards the caller too. Failing to reach the sidecar
// at all is recorded: it would otherwise look like the refusal a STRICT port answers with.
type forwarders struct {
	mu   sync.Mutex
	errs []string
}

func (f *forwarders) listen(t *testing.T, addr, to string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("forwarder %s: %v", addr, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go f.pipe(c.(*net.TCPConn), to)
		}
	}()
}

func (f *forwarders) pipe(c *net.TCPConn, to string) {
	defer c.Close()
	up, err := net.DialTimeout("tcp", to, 5*time.Second)
	if err != nil {
		f.mu.Lock()
		f.errs = append(f.errs, fmt.Sprintf("forward to the sidecar's inbound listener %s: %v", to, err))
		f.mu.Unlock()
		return
	}
	u := up.(*net.TCPConn)
	defer u.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(u, c); u.CloseWrite(); done <- struct{}{} }()
	go func() {
		if _, err := io.Copy(c, u); err != nil {
			c.SetLinger(0) // the sidecar reset the connection: so does the "pod"
		}
		c.CloseWrite()
		done <- struct{}{}
	}()
	<-done
	deadline := time.Now().Add(5 * time.Second)
	c.SetDeadline(deadline)
	u.SetDeadline(deadline)
	<-done
}

// takeErrors returns and clears what went wrong since the last call.
func (f *forwarders) takeErrors() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	errs := f.errs
	f.errs = nil
	return errs
}

// send makes one request on a new connection and says what the caller saw. A refused
// connection or a timeout is an error of the harness, never "connection closed".
func send(r meshRequest) (outcome, string, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	req, err := http.NewRequest(http.MethodGet, "http://"+r.addr+r.path, nil)
	if err != nil {
		return outcome{}, "", err
	}
	req.Host = r.host
	resp, err := client.Do(req)
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &ne) && ne.Timeout()):
		return outcome{}, "", err
	case err != nil:
		return outcome{}, err.Error(), nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return outcome{status: resp.StatusCode}, string(body), nil
}

// matches: the status is the one expected and, for a response, the body holds the fragment.
func (o outcome) matches(got outcome, body string) bool {
	return got.status == o.status && (o.status == 0 || strings.Contains(body, o.body))
}

// envoyReady: the admin interface says the server is live and nothing is warming, so a
// configuration the control plane saw ACKed is also in use.
func envoyReady(adminPort int) error {
	base := fmt.Sprintf("http://127.0.0.1:%d", adminPort)
	code, body := get(base+"/ready", "")
	if code != http.StatusOK {
		return fmt.Errorf("admin /ready: %d %s", code, strings.TrimSpace(body))
	}
	code, body = get(base+"/stats?filter="+url.QueryEscape(`^(listener_manager\.total_listeners_warming|cluster_manager\.warming_clusters)$`), "")
	if code != http.StatusOK {
		return fmt.Errorf("admin /stats: %d %s", code, body)
	}
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if name, v, ok := strings.Cut(line, ": "); ok && v != "0" {
			return fmt.Errorf("%s is %s", name, v)
		}
	}
	return nil
}

func envoyLogLevel() string {
	if l := os.Getenv("ENVOY_LOG_LEVEL"); l != "" {
		return l
	}
	return "warning"
}

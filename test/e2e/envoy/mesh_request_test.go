package envoy

import (
	"fmt"
	"strconv"
	"strings"
)

// meshRequest is how the harness sends one README case, and what it must see.
type meshRequest struct {
	addr string // dialed: the caller's sidecar outbound listener, or the server's pod address
	host string // the Host header
	path string
	via  string // the sidecar that originates the call; "" for a caller without one
	want outcome
}

// outcome is what the caller sees: a status and a body fragment, or status 0 for a connection
// closed without a response (curl's exit code 56 in Istio's task).
type outcome struct {
	status int
	body   string
}

func (o outcome) String() string {
	if o.status == 0 {
		return "connection closed"
	}
	return fmt.Sprintf("%d %q", o.status, o.body)
}

// request maps a README case to this world. A caller with a sidecar calls the service on its
// sidecar's outbound listener (<caller pod address>:<service port>), which picks mutual TLS or plaintext
// itself; a caller without one connects to the server pod's workload port in plaintext.
func (w *meshWorld) request(c meshCase) (meshRequest, error) {
	caller, server := w.workloads[c.caller], w.workloads[c.server]
	if caller == nil || server == nil {
		return meshRequest{}, fmt.Errorf("%v: no workload %s or %s in base/", c, c.caller, c.server)
	}
	sport, sp, err := server.portFor(c)
	if err != nil {
		return meshRequest{}, fmt.Errorf("%v: %w", c, err)
	}
	want, err := expected(c, caller, server)
	if err != nil {
		return meshRequest{}, fmt.Errorf("%v: %w", c, err)
	}
	r := meshRequest{path: c.path, want: want}
	if caller.sidecar {
		r.addr = fmt.Sprintf("%s:%d", caller.address, w.servicePorts[sport])
		r.host = fmt.Sprintf("%s:%d", server.host, w.servicePorts[sport])
		r.via = caller.name()
		return r, nil
	}
	r.addr, r.host = fmt.Sprintf("%s:%d", server.address, sp.ourTarget), server.host
	return r, nil
}

// portFor finds the server's service port a case names: list items name it, table rows name
// the workload port it targets.
func (wl *workload) portFor(c meshCase) (uint32, servicePort, error) {
	if c.listItem {
		sp, ok := wl.services[c.port]
		if !ok {
			return 0, sp, fmt.Errorf("%s has no service port %d", wl.name(), c.port)
		}
		return c.port, sp, nil
	}
	for number, sp := range wl.services {
		if sp.target == c.port {
			return number, sp, nil
		}
	}
	return 0, servicePort{}, fmt.Errorf("no service of %s targets workload port %d", wl.name(), c.port)
}

// expected is what the README promises, as a caller sees it. A refused connection reaches a
// caller with a sidecar as its sidecar's 503 (the upstream reset); a caller without one sees
// the reset itself.
func expected(c meshCase, caller, server *workload) (outcome, error) {
	if c.listItem {
		return expectedFromMode(c, caller, server)
	}
	if c.peer != "" {
		want := "spiffe://cluster.local/ns/" + caller.namespace + "/sa/" + caller.serviceAccount
		if !caller.sidecar || c.peer != want {
			return outcome{}, fmt.Errorf("--peer %s: %s presents %q", c.peer, c.caller, map[bool]string{true: want}[caller.sidecar])
		}
	}
	switch {
	case c.want == "allowed":
		return outcome{200, server.name() + " " + c.path}, nil
	case c.want == "connection closed" && caller.sidecar:
		return outcome{503, ""}, nil
	case c.want == "connection closed":
		return outcome{}, nil
	}
	code, body, _ := strings.Cut(c.want, " ")
	status, err := strconv.Atoi(code)
	if err != nil || status < 100 || status > 599 {
		return outcome{}, fmt.Errorf("result %q: not allowed, connection closed or a status", c.want)
	}
	return outcome{status, body}, nil
}

// expectedFromMode: what the caller's sidecar originates decides whether the server can
// terminate it. The lists only name servers whose answer that alone predicts.
func expectedFromMode(c meshCase, caller, server *workload) (outcome, error) {
	ok := outcome{200, server.name() + " " + c.path}
	switch {
	case !caller.sidecar:
		return outcome{}, fmt.Errorf("%s has no sidecar to originate %s", c.caller, c.mode)
	case c.mode == "auto mTLS":
		return ok, nil // mutual TLS exactly to peers that terminate it
	case c.mode == "mutual TLS" && server.sidecar:
		return ok, nil
	case c.mode == "mutual TLS":
		return outcome{503, ""}, nil // nothing at the server terminates it
	case c.mode == "plaintext" && !server.sidecar:
		return ok, nil
	}
	return outcome{}, fmt.Errorf("mode %q to %s: the answer depends on the server's PeerAuthentication, which the list does not say", c.mode, c.server)
}

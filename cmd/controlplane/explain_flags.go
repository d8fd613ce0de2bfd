package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/plainenvoy/controlplane/pkg/explain"
)

// explainFlags are the command's flags: where the configuration comes from, and the request.
type explainFlags struct {
	mesh     meshFlags
	node     string
	policies []string
	jwks     map[string]string
	output   string

	method, host, path, sourceIP, destIP string
	port                                 uint32
	headers                              []string
	peer, sni                            string
	alpn                                 []string
	tls                                  bool
	jwt, claims, extAuthz, now           string
}

func (f *explainFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	f.mesh.register(fs)
	fs.StringVar(&f.node, "node", "", "file with the Envoy node (id, cluster, metadata) or a bootstrap containing one")
	fs.StringArrayVar(&f.policies, "policies", nil, "another directory of Istio YAML read over --config; its objects win on a name clash (repeatable)")
	fs.StringToStringVar(&f.jwks, "jwks", nil, "SOURCE=FILE: the key set of a jwksUri (or issuer) read from FILE instead of fetched (repeatable)")
	fs.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	fs.StringVar(&f.method, "method", "GET", "HTTP method")
	fs.StringVar(&f.host, "host", "", "HTTP :authority (Host), port included if the client sends one")
	fs.Uint32Var(&f.port, "port", 0, "destination port (required)")
	fs.StringVar(&f.path, "path", "/", "HTTP path, query string allowed")
	fs.StringArrayVarP(&f.headers, "header", "H", nil, "request header 'name: value' (repeatable)")
	fs.StringVar(&f.sourceIP, "source-ip", "10.0.0.1", "client address")
	fs.StringVar(&f.destIP, "dest-ip", "10.0.0.2", "destination address")
	fs.StringVar(&f.peer, "peer", "", "URI SAN of the client certificate, e.g. spiffe://cluster.local/ns/foo/sa/sleep (implies --tls)")
	fs.BoolVar(&f.tls, "tls", false, "the client connects with TLS")
	fs.StringVar(&f.sni, "sni", "", "TLS server name the client sends (default: --host without port)")
	fs.StringSliceVar(&f.alpn, "alpn", nil, "ALPN protocols the client offers (default with --peer on a sidecar: Istio's mesh ALPN)")
	fs.StringVar(&f.jwt, "jwt", "", "JWT sent as 'Authorization: Bearer <token>'")
	fs.StringVar(&f.claims, "claims", "", "JSON claims taken as verified by jwt_authn, instead of --jwt")
	fs.StringVar(&f.extAuthz, "ext-authz", "deny", "what a CUSTOM (ext_authz) provider answers: allow or deny")
	fs.StringVar(&f.now, "now", "", "RFC 3339 time tokens are checked at (default: now)")
}

// input turns the request flags into an explain.Input.
func (f explainFlags) input() (explain.Input, error) {
	in := explain.Input{
		Port: f.port, Method: f.method, Host: f.host, Path: f.path,
		SourceIP: f.sourceIP, DestinationIP: f.destIP,
		TLS: f.tls || f.peer != "", PeerPrincipal: f.peer, SNI: f.sni, ALPN: f.alpn,
		Headers: map[string][]string{},
	}
	switch {
	case f.mesh.configDir == "" || f.node == "":
		return in, fmt.Errorf("both --config and --node are required")
	case f.port == 0 || f.port > 65535:
		return in, fmt.Errorf("--port must be 1-65535")
	case f.output != "text" && f.output != "json":
		return in, fmt.Errorf("--output must be text or json, got %q", f.output)
	case f.jwt != "" && f.claims != "":
		return in, fmt.Errorf("--jwt and --claims exclude each other")
	}
	for _, ip := range []string{f.sourceIP, f.destIP} {
		if _, err := netip.ParseAddr(ip); err != nil {
			return in, fmt.Errorf("%q is not an IP address", ip)
		}
	}
	for _, h := range f.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return in, fmt.Errorf("-H %q: want 'name: value'", h)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		in.Headers[name] = append(in.Headers[name], strings.TrimSpace(value))
	}
	if f.jwt != "" {
		in.Headers["authorization"] = append(in.Headers["authorization"], "Bearer "+f.jwt)
	}
	if f.claims != "" {
		if err := json.Unmarshal([]byte(f.claims), &in.Claims); err != nil || in.Claims == nil {
			return in, fmt.Errorf("--claims: want a JSON object: %v", err)
		}
	}
	switch f.extAuthz {
	case "allow":
		in.ExtAuthz = explain.ExtAuthzAllow
	case "deny":
		in.ExtAuthz = explain.ExtAuthzDeny
	default:
		return in, fmt.Errorf("--ext-authz must be allow or deny, got %q", f.extAuthz)
	}
	if f.now != "" {
		t, err := time.Parse(time.RFC3339, f.now)
		if err != nil {
			return in, fmt.Errorf("--now: %w", err)
		}
		in.Now = t
	}
	if in.TLS && in.SNI == "" {
		in.SNI, _, _ = strings.Cut(f.host, ":")
	}
	return in, nil
}

// meshALPN is what a client sidecar offers to a mesh peer: Istio's inbound mTLS chains match
// on it to tell mesh traffic from other TLS.
func meshALPN() []string { return []string{"istio-peer-exchange", "istio"} }

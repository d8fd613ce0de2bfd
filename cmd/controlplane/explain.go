package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/plainenvoy/controlplane/pkg/explain"
	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// Exit statuses of `controlplane explain`.
const (
	explainAllowed = 0
	explainDenied  = 1
	explainUsage   = 2
	explainFailed  = 3
)

func newExplainCommand() *cobra.Command {
	var f explainFlags
	cmd := &cobra.Command{
		Use:   "explain --config DIR --node NODE.yaml [request flags]",
		Short: "Say what a proxy would do with one request, and which policy decided",
		Long: `explain translates the configuration for the proxy of --node, exactly as serve would, and
evaluates one request against the resulting Envoy configuration: the listener, the filter chain
(as Envoy's filter chain matcher picks it), the TLS handshake, then each HTTP filter in order
(CUSTOM ext_authz, jwt_authn, RBAC AUDIT/DENY/ALLOW, shadow rules reported but not enforced)
and the route; on a TCP port the network RBAC filters and tcp_proxy. It prints one line per
step, then the verdict: the status and body Envoy would answer, and the AuthorizationPolicy
rule that decided with its file:line.

--port is the gateway's listener port, or for a sidecar the workload port the connection is
addressed to (its inbound listen port in explicit mode). --peer presents a client
certificate with that URI SAN over TLS (mesh mTLS on a sidecar). --jwt sends a token as
"Authorization: Bearer"; --claims instead takes the given claims as already verified by
jwt_authn (no token or signature is checked), to test claim rules without a signed token.
ext_authz is never called: --ext-authz says what the provider answers (default deny).

JWKS are not fetched: --jwks SOURCE=FILE supplies the key set of a jwksUri (or issuer, for
OpenID discovery) from a file; other issuers get keys that verify nothing, as a proxy has
before the first fetch. --policies DIR (repeatable) adds the objects of another directory
over --config, its objects winning on a name clash, to try a policy before applying it.

Exit status: 0 the request is forwarded upstream (or the TCP connection proxied), 1 Envoy
answers it itself (denied, 401, 404, redirect, direct response) or closes the connection,
2 a usage error, 3 the configuration could not be read or evaluated.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExplain(cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	f.register(cmd)
	return cmd
}

func runExplain(stdout, stderr io.Writer, f explainFlags) error {
	fail := func(code int, err error) error {
		fmt.Fprintln(stderr, "explain:", err)
		return exitError{code: code}
	}
	in, err := f.input()
	if err != nil {
		return fail(explainUsage, err)
	}
	cfg, proxy, problems, err := f.config()
	if err != nil {
		return fail(explainFailed, err)
	}
	if in.PeerPrincipal != "" && in.ALPN == nil && proxy.Role == model.RoleSidecar {
		in.ALPN = meshALPN()
	}
	out, err := explain.Evaluate(cfg, in)
	if err != nil {
		return fail(explainFailed, err)
	}
	if f.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		printOutcome(stdout, out, in)
		printProblems(stderr, problems, out.Decision)
	}
	if !out.Allowed {
		return exitError{code: explainDenied}
	}
	return nil
}

// config loads the stores, translates for the node and returns the Envoy configuration with
// a way back from a policy to its file.
func (f explainFlags) config() (explain.Config, model.Proxy, []model.Problem, error) {
	if _, err := os.Stat(f.node); err != nil {
		return explain.Config{}, model.Proxy{}, nil, fmt.Errorf("--node: %w", err)
	}
	// As translate does, a node with missing metadata is a problem, not a failure: the proxy
	// gets the configuration such a node would get.
	proxy, nodeErr := readNode(f.node)
	var problems []model.Problem
	if nodeErr != nil {
		problems = append(problems, model.Problem{Origin: model.Origin{File: f.node}, Reason: nodeErr.Error()})
	}
	meshProblems, err := f.mesh.readSettings()
	if err != nil {
		return explain.Config{}, proxy, nil, err
	}
	problems = append(problems, meshProblems...)
	providers := f.mesh.settings.ExtensionProviders
	keys, err := readJWKSFiles(f.jwks)
	if err != nil {
		return explain.Config{}, proxy, nil, err
	}
	// Later stores lose name clashes, so --policies directories come first.
	var stores []*model.Store
	for _, dir := range append(append([]string{}, f.policies...), f.mesh.configDir) {
		s, ps, err := loadDir(dir, f.mesh.mesh())
		if err != nil {
			return explain.Config{}, proxy, nil, err
		}
		stores, problems = append(stores, s), append(problems, ps...)
	}
	store := model.MergeStores(f.mesh.mesh(), stores...)
	problems = append(problems, model.MergeConflicts(stores...)...)
	res, tp := translate.Proxy(translate.Inputs{Store: store, Proxy: proxy, Keys: keys, ExtAuthz: providers, Now: time.Now()})
	return explain.Config{
		Listeners: res.Listeners, Routes: res.Routes, Clusters: res.Clusters,
		Origins: storeOrigins(store),
	}, proxy, model.SortProblems(append(problems, tp...)), nil
}

// loadDir reads one directory. Origins are relative to the directory read; they are made
// relative to where the command runs, since several directories may be read.
func loadDir(dir string, mesh model.Mesh) (*model.Store, []model.Problem, error) {
	src, err := file.New(file.Options{Dir: dir, Mesh: mesh})
	if err != nil {
		return nil, nil, err
	}
	s, ps, err := src.Load()
	if err != nil {
		return nil, nil, err
	}
	for _, o := range s.Objects() {
		if m := o.ObjectMeta(); m.Origin.File != "" {
			m.Origin.File = filepath.Join(dir, m.Origin.File)
		}
	}
	for i := range ps {
		if ps[i].Origin.File != "" {
			ps[i].Origin.File = filepath.Join(dir, ps[i].Origin.File)
		}
	}
	return s, ps, nil
}

// storeOrigins maps a policy named in a decision to where it is defined.
func storeOrigins(store *model.Store) explain.OriginFunc {
	return func(kind, namespace, name string) string {
		for _, o := range store.Objects() {
			if m := o.ObjectMeta(); string(m.Kind) == kind && m.Namespace == namespace && m.Name == name {
				return m.Origin.String()
			}
		}
		return ""
	}
}

// readJWKSFiles reads --jwks SOURCE=FILE pairs into the key sets translation inlines.
func readJWKSFiles(pairs map[string]string) (map[string]model.KeySet, error) {
	keys := map[string]model.KeySet{}
	for src, path := range pairs {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--jwks %s: %w", src, err)
		}
		keys[src] = model.KeySet{Source: src, JSON: string(data)}
	}
	return keys, nil
}

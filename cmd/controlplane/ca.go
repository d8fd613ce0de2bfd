package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/plainenvoy/controlplane/pkg/ca"
)

// caFlags select the CA: a directory holding a generated root, or given root/intermediate files.
type caFlags struct {
	dir, certFile, keyFile, chainFile string
	trustDomain                       string
}

func (f *caFlags) options() ca.Options {
	return ca.Options{Dir: f.dir, CertFile: f.certFile, KeyFile: f.keyFile, ChainFile: f.chainFile, TrustDomain: f.trustDomain}
}

func newCACommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Operate the built-in certificate authority",
	}
	cmd.AddCommand(newCAIssueCommand())
	return cmd
}

func newCAIssueCommand() *cobra.Command {
	var (
		f             caFlags
		namespace, sa string
		ttl           time.Duration
		outDir        string
	)
	cmd := &cobra.Command{
		Use:   "issue --ca-dir DIR --namespace NS --service-account SA --out DIR",
		Short: "Issue a bootstrap client certificate a proxy presents on its ADS connection",
		Long: `issue signs a certificate for spiffe://<trust-domain>/ns/<NS>/sa/<SA> with the control plane's
CA and writes cert-chain.pem, key.pem (0600) and root-cert.pem to --out. An Envoy that presents it
on its ADS connection (mutual TLS) proves that identity, and only then is it sent its workload
key over SDS. With an empty --ca-dir a root is created there and "serve" reuses it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if namespace == "" || sa == "" || outDir == "" {
				return fmt.Errorf("--namespace, --service-account and --out are required")
			}
			if f.dir == "" && f.certFile == "" {
				return fmt.Errorf("one of --ca-dir or --ca-cert/--ca-key is required")
			}
			c, err := ca.New(cmd.Context(), f.options())
			if err != nil {
				return err
			}
			cert, err := c.IssueBootstrap(ca.Identity{Namespace: namespace, ServiceAccount: sa}, ttl)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				return err
			}
			for _, out := range []struct {
				name string
				data []byte
				mode os.FileMode
			}{
				{"cert-chain.pem", cert.CertChainPEM, 0o644},
				{"key.pem", cert.KeyPEM, 0o600},
				{"root-cert.pem", c.Root(), 0o644},
			} {
				if err := os.WriteFile(filepath.Join(outDir, out.name), out.data, out.mode); err != nil {
					return err
				}
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "issued %s/%s, valid until %s, in %s\n",
				namespace, sa, cert.NotAfter.UTC().Format(time.RFC3339), outDir)
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.dir, "ca-dir", "", "directory of the generated root (ca-cert.pem, ca-key.pem); created if empty")
	fs.StringVar(&f.certFile, "ca-cert", "", "root or intermediate CA certificate (PEM), instead of --ca-dir")
	fs.StringVar(&f.keyFile, "ca-key", "", "key of --ca-cert (PEM)")
	fs.StringVar(&f.chainFile, "ca-chain", "", "chain from --ca-cert's issuer to the root (PEM), for an intermediate")
	fs.StringVar(&f.trustDomain, "trust-domain", "cluster.local", "SPIFFE trust domain")
	fs.StringVar(&namespace, "namespace", "", "the proxy's namespace")
	fs.StringVar(&sa, "service-account", "", "the proxy's service account")
	fs.DurationVar(&ttl, "ttl", 0, "certificate lifetime (default: the workload TTL, 24h)")
	fs.StringVar(&outDir, "out", "", "directory to write cert-chain.pem, key.pem and root-cert.pem to")
	return cmd
}

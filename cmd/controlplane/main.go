// Command controlplane is the xDS control plane: it reads Istio security policy (files or
// Kubernetes), translates it into upstream Envoy configuration, and serves it over ADS.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		if _, quiet := err.(exitError); !quiet { // an exitError's command has said everything
			fmt.Fprintln(os.Stderr, "controlplane:", err)
		}
		os.Exit(exitCode(err))
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "controlplane",
		Short: "xDS control plane for Istio security policy on plain Envoy",
		Long: `controlplane turns Istio RequestAuthentication, AuthorizationPolicy and PeerAuthentication
(plus the TLS parts of DestinationRule and Gateway) into upstream Envoy configuration and
serves it over ADS to every connected Envoy.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newServeCommand(),
		newStatusCommand(),
		newConfigCommand(),
		newTranslateCommand(),
		newValidateCommand(),
		newVersionCommand(),
		newCACommand(),
		newExplainCommand(),
	)
	return root
}

// exitError carries a process exit code without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCode(err error) int {
	if e, ok := err.(exitError); ok {
		return e.code
	}
	return 1
}

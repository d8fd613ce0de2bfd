package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

func newConfigCommand() *cobra.Command {
	var addr, node, output string
	cmd := &cobra.Command{
		Use:   "config --node ID",
		Short: "Dump the configuration a connected proxy is served (cf. istioctl proxy-config)",
		Long: `config asks a running control plane (its monitoring address, /debug/config) for the
listeners, routes, clusters, endpoints and secrets (private keys redacted) that the connected
proxy with the given node id is served, with its per-type sync status and last NACK.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if node == "" {
				return errors.New("--node is required")
			}
			var doc json.RawMessage
			if err := getJSON(cmd.Context(), addr, "/debug/config", url.Values{"node": {node}}, &doc); err != nil {
				return err
			}
			out := []byte(doc)
			switch output {
			case "json":
			case "yaml":
				var err error
				if out, err = yaml.JSONToYAML(doc); err != nil {
					return err
				}
			default:
				return fmt.Errorf("--output must be yaml or json, got %q", output)
			}
			_, err := cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:15014", "monitoring address of the control plane")
	cmd.Flags().StringVar(&node, "node", "", "node id of the proxy")
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	return cmd
}

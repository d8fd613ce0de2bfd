package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/render"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

func newTranslateCommand() *cobra.Command {
	var (
		mf       meshFlags
		nodeFile string
		output   string
	)
	cmd := &cobra.Command{
		Use:   "translate --config DIR --node NODE.yaml",
		Short: "Print the Envoy configuration one proxy would receive",
		Long: `translate reads the policy directory, parses the Envoy node (a node, or a whole bootstrap
with a "node" key), and prints the listeners, routes, clusters, endpoints and secrets that an
Envoy presenting that node would receive over ADS, followed by the problems found.

JWKS are not fetched: issuers whose keys come from a jwksUri get the placeholder key set that
verifies nothing (exactly what a proxy is served before the first successful fetch).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if mf.configDir == "" || nodeFile == "" {
				return fmt.Errorf("both --config and --node are required")
			}
			proxy, nodeErr := readNode(nodeFile)
			store, problems, providers, err := mf.load()
			if err != nil {
				return err
			}
			if nodeErr != nil {
				problems = append(problems, model.Problem{Origin: model.Origin{File: nodeFile}, Reason: nodeErr.Error()})
			}
			res, tp := translate.Proxy(translate.Inputs{Store: store, Proxy: proxy, ExtAuthz: providers, Now: time.Now()})
			problems = model.SortProblems(append(problems, tp...))
			var out []byte
			switch output {
			case "yaml":
				out, err = render.YAML(res, problems)
			case "json":
				out, err = render.JSON(res, problems)
			default:
				return fmt.Errorf("--output must be yaml or json, got %q", output)
			}
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	mf.register(cmd.Flags())
	cmd.Flags().StringVar(&nodeFile, "node", "", "file with the Envoy node (id, cluster, metadata) or a bootstrap containing one")
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	return cmd
}

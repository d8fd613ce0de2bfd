package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newServeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve Envoy configuration over ADS",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("serve: not implemented yet")
		},
	}
}

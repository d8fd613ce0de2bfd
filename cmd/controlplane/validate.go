package main

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

func newValidateCommand() *cobra.Command {
	var (
		mf     meshFlags
		strict bool
	)
	cmd := &cobra.Command{
		Use:   "validate --config DIR",
		Short: "Lint a directory of Istio YAML",
		Long: `validate reads every YAML file under --config, checks each object as Istio's admission
validation does, then translates the configuration for every workload and gateway the objects
select, to report what only translation can find (a DENY rule widened on a TCP port, an unknown
destination host, ...). It prints one line per problem:

  file:line: Kind namespace/name: field: reason

and exits 1 if any problem is an error (with --strict, also if any is a warning).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if mf.configDir == "" {
				return fmt.Errorf("--config is required")
			}
			store, problems, providers, err := mf.load()
			if err != nil {
				return err
			}
			problems = model.SortProblems(append(problems, translationProblems(store, providers)...))
			for _, p := range problems {
				fmt.Fprintln(cmd.OutOrStdout(), p.String())
			}
			if model.HasErrors(problems) || strict && len(problems) > 0 {
				return exitError{code: 1}
			}
			return nil
		},
	}
	mf.register(cmd.Flags())
	cmd.Flags().BoolVar(&strict, "strict", false, "treat warnings as errors")
	return cmd
}

// translationProblems translates the configuration for one representative proxy of every
// gateway selector and every workload selector in the store, and collects the problems.
func translationProblems(store *model.Store, providers []translate.ExtAuthzProvider) []model.Problem {
	proxies := map[string]model.Proxy{}
	add := func(p model.Proxy) { proxies[p.GroupKey()] = p }
	for _, gw := range store.Gateways {
		add(model.Proxy{Role: model.RoleGateway, Namespace: gw.Namespace, Labels: gw.Spec.GetSelector()})
	}
	for _, se := range store.ServiceEntries {
		if sel := se.Spec.GetWorkloadSelector().GetLabels(); len(sel) > 0 {
			add(model.Proxy{Role: model.RoleSidecar, Namespace: se.Namespace, Labels: sel,
				Interception: model.InterceptionTransparent})
		}
	}
	var out []model.Problem
	for _, k := range slices.Sorted(maps.Keys(proxies)) {
		_, ps := translate.Proxy(translate.Inputs{Store: store, Proxy: proxies[k], ExtAuthz: providers, Now: time.Now()})
		out = append(out, ps...)
	}
	return out
}

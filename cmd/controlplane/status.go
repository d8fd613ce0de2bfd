package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/plainenvoy/controlplane/pkg/snapshot"
)

func newStatusCommand() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every connected proxy, its group and the versions it ACKed (cf. istioctl proxy-status)",
		Long: `status asks a running control plane (its monitoring address, /debug/proxies) for every
connected proxy and prints its group and, per xDS type, whether it is SYNCED (ACKed the version
its group is served), NACKED (rejected it; the last NACK is shown), STALE (sent, not yet ACKed)
or NOT SENT.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var proxies []snapshot.ProxyStatus
			if err := getJSON(cmd.Context(), addr, "/debug/proxies", nil, &proxies); err != nil {
				return err
			}
			return printStatus(cmd.OutOrStdout(), proxies)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:15014", "monitoring address of the control plane")
	return cmd
}

func printStatus(w io.Writer, proxies []snapshot.ProxyStatus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tGROUP\tCDS\tLDS\tEDS\tRDS\tSDS\tVERSION\tXDS")
	for _, p := range proxies {
		mode := "sotw"
		if p.Delta {
			mode = "delta"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.NodeID, p.Group,
			p.Types["cds"].State, p.Types["lds"].State, p.Types["eds"].State, p.Types["rds"].State,
			p.Types["sds"].State, p.GroupVersion, mode)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range proxies {
		if p.IdentityNote != "" {
			fmt.Fprintf(w, "%s: %s\n", p.NodeID, p.IdentityNote)
		}
		for _, t := range []string{"cds", "lds", "eds", "rds", "sds"} {
			if n := p.Types[t].LastNACK; n != nil {
				fmt.Fprintf(w, "%s %s: last NACK of version %s at %s: %s\n", p.NodeID, t, n.Version,
					n.At.Format(time.RFC3339), n.Message)
			}
		}
	}
	return nil
}

// getJSON fetches http://addr+path?query and decodes the JSON answer into v.
func getJSON(ctx context.Context, addr, path string, query url.Values, v any) error {
	u := url.URL{Scheme: "http", Host: addr, Path: path, RawQuery: query.Encode()}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("ask the control plane: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s: %s: %s", u.String(), resp.Status, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("%s: decode: %w", u.String(), err)
	}
	return nil
}

package main

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/plainenvoy/controlplane/pkg/explain"
	"github.com/plainenvoy/controlplane/pkg/model"
)

// printOutcome writes the trace, one line per step, then the verdict and what decided it.
func printOutcome(w io.Writer, out explain.Outcome, in explain.Input) {
	width := 0
	for _, s := range out.Trace {
		width = max(width, len(s.Stage))
	}
	for _, s := range out.Trace {
		name := ""
		if s.Name != "" {
			name = s.Name + ": "
		}
		fmt.Fprintf(w, "%-*s  %s%s\n", width, s.Stage, name, s.Detail)
	}
	fmt.Fprintln(w)
	if in.Claims != nil {
		fmt.Fprintln(w, "note:       --claims: jwt_authn was taken to have verified these claims; no token was checked")
	}
	verdict := out.Result()
	if out.Allowed {
		verdict = "allowed: forwarded to " + out.Cluster
	}
	fmt.Fprintln(w, "verdict:   ", verdict)
	for _, k := range slices.Sorted(maps.Keys(out.Headers)) {
		fmt.Fprintf(w, "header:     %s: %s\n", k, out.Headers[k])
	}
	d := out.Decision
	if d == nil {
		return
	}
	by := d.Filter
	if d.Ref != nil {
		by += ": " + d.Ref.String()
	} else if d.Policy != "" {
		by += ": " + d.Policy
	}
	fmt.Fprintf(w, "decided by: %s (%s)\n", by, d.Reason)
	if d.Policy != "" {
		fmt.Fprintln(w, "policy:    ", d.Policy)
	}
	if d.Origin != "" {
		fmt.Fprintln(w, "defined at:", d.Origin)
	}
}

// printProblems shows the problems that can explain this outcome: every error, the warnings
// about the deciding policy, and those about RequestAuthentications (keys never fetched make
// every token fail). The other warnings are only counted: translate and validate list them.
func printProblems(w io.Writer, problems []model.Problem, d *explain.Decision) {
	others := 0
	for _, p := range problems {
		decider := d != nil && d.Ref != nil && p.Kind == model.KindAuthorizationPolicy &&
			p.Namespace == d.Ref.Namespace && p.Name == d.Ref.Name
		if p.Severity == model.SeverityError || decider || p.Kind == model.KindRequestAuthentication {
			fmt.Fprintln(w, "problem:", p.String())
			continue
		}
		others++
	}
	if others > 0 {
		fmt.Fprintf(w, "(%d other warnings: controlplane translate lists them)\n", others)
	}
}

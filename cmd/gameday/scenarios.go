package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/gameday/gameday/runbook"
	"github.com/spf13/cobra"
)

func newScenariosCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "scenarios",
		Short: "List the built-in scenarios to start a runbook for your own system from",
		Long: `List the built-in scenario library: runbook templates for your own
systems, started with gameday new NAME --from SCENARIO. The lab has scenarios
of its own, written for its fleet: gameday lab --help lists them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SCENARIO\tWHAT IT TESTS")
			for _, s := range runbook.Scenarios() {
				fmt.Fprintf(w, "%s\t%s\n", s.Name, s.Summary)
			}
			fmt.Fprintln(w, "\nStart one with: gameday new NAME --from SCENARIO")
			fmt.Fprintln(w, "The lab's own scenarios, for practice on its fleet: gameday lab --help")
			return w.Flush()
		},
	}
}

package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/gameday/gameday/targets"
	"github.com/spf13/cobra"
)

func newKindsCmd() *cobra.Command {
	var markdown bool
	cmd := &cobra.Command{
		Use:   "kinds",
		Short: "List the attack kinds and their params",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cat := targets.Default()
			if markdown {
				_, err := fmt.Fprint(cmd.OutOrStdout(), cat.Markdown())
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "KIND\tON\tWHAT IT DOES")
			for _, k := range cat.Kinds() {
				fmt.Fprintf(w, "%s\t%s\t%s\n", k.Name, k.Family, k.Summary)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print the attack reference used in docs/attacks.md")
	return cmd
}

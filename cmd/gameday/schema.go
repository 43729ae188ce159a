package main

import (
	"github.com/gameday/gameday/runbook"
	"github.com/spf13/cobra"
)

func newSchemaCmd() *cobra.Command {
	var markdown bool
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the runbook format",
		Long: `Print the JSON Schema of the runbook format, for editor completion.
With yaml-language-server, save it and add to the top of a runbook:
  # yaml-language-server: $schema=./gameday.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := runbook.Schema()
			if markdown {
				out = []byte(runbook.Reference())
			}
			_, err := cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print the reference table used in docs/runbook.md instead")
	return cmd
}

package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/gameday/gameday/runbook/chaostoolkit"
	"github.com/spf13/cobra"
)

func newImportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Turn another tool's experiment into a runbook",
	}
	var out string
	ctk := &cobra.Command{
		Use:   "chaostoolkit FILE",
		Short: "Import a Chaos Toolkit experiment (JSON or YAML)",
		Long: `Import a Chaos Toolkit experiment (JSON or YAML) as a runbook. What maps, maps;
everything else is listed as a warning with its JSON path, and placeholders the
import had to invent are marked TODO(import) in the runbook.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return invalid(fmt.Errorf("import: %w", err))
			}
			res, err := chaostoolkit.Import(args[0], data)
			if err != nil {
				return invalid(err)
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s: %s: %s\n", args[0], w.Path, w.Msg)
			}
			if out == "" || out == "-" {
				_, err = cmd.OutOrStdout().Write(res.YAML)
				return err
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				if errors.Is(err, os.ErrExist) {
					return invalid(fmt.Errorf("import: %s already exists; choose another -o", out))
				}
				return invalid(fmt.Errorf("import: %w", err))
			}
			if _, err := f.Write(res.YAML); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		},
	}
	ctk.Flags().StringVarP(&out, "output", "o", "", "file to write (default stdout)")
	cmd.AddCommand(ctk)
	return cmd
}

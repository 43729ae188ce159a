package main

import (
	"errors"
	"fmt"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check runbooks without running anything",
		Long: `Check runbooks without running anything: every problem is reported with
file:line:col and what was expected, all in one pass.

Exit codes: 0 all valid, 4 a runbook is invalid or unreadable.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			cat := targets.Default()
			bad := 0
			for _, f := range files {
				rb, err := runbook.Load(f, cat)
				if err != nil {
					bad++
					var list runbook.ErrorList
					if errors.As(err, &list) {
						fmt.Fprintln(cmd.ErrOrStderr(), list)
						fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d problem(s)\n", f, len(list))
					} else {
						fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", f, err)
					}
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok: %q, %d attack(s) on %d target(s)\n",
					f, rb.Name, len(rb.Attacks), len(rb.Targets))
			}
			if bad > 0 {
				return &exitError{code: exitInvalid, err: fmt.Errorf("%d of %d runbook(s) invalid", bad, len(files))}
			}
			return nil
		},
	}
}

package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gameday/gameday/runbook"
)

func addConfirmEachFlag(cmd *cobra.Command, f *runFlags) {
	cmd.Flags().BoolVar(&f.ConfirmEachStage, "confirm-each-stage", false, "in a staged run, ask again (Y in the console) before each escalation; not with --autopilot")
}

// checkConfirmEach refuses --confirm-each-stage where nobody could be
// asked, or nothing escalates. Escalating anyway would run what the flag
// said to hold back for a person.
func checkConfirmEach(rb *runbook.Runbook, f *runFlags) error {
	if !f.ConfirmEachStage {
		return nil
	}
	if f.Autopilot && !f.DryRun {
		return invalid(fmt.Errorf("%s: --confirm-each-stage asks a person before each escalation, and --autopilot has nobody to ask; run the console to confirm each stage, or leave the flag out to escalate as the runbook says once --yes confirms the whole plan", rb.File))
	}
	if rb.Stages() == 0 {
		return invalid(fmt.Errorf("%s: --confirm-each-stage: the runbook has no stages to confirm (see Stages in docs/runbook.md)", rb.File))
	}
	return nil
}

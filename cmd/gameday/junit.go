package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	gdreport "github.com/gameday/gameday/gamedays/report"
)

// withJUnit writes the run's JUnit XML to path (when set) from the journal
// in dir, whatever the run's outcome, and returns the outcome's error. A
// JUnit file that cannot be written is said on stderr; it does not change
// the exit code, which CI reads too.
func withJUnit(cmd *cobra.Command, path, dir string, outcome error) error {
	if path == "" {
		return outcome
	}
	if err := writeJUnit(path, dir); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "gameday: --junit: %v\n", err)
	}
	return outcome
}

func writeJUnit(path, dir string) error {
	r, err := gdreport.Load(dir)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := r.JUnit(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

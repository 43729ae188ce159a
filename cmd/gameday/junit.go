package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	gdreport "github.com/gameday/gameday/gamedays/report"
)

// withJUnit writes the run's JUnit XML to path (when set) from the journal
// in dir, whatever the run's outcome, and returns the outcome's error. A
// JUnit file that cannot be written is said on stderr; it does not change
// the exit code, which CI reads too.
func withJUnit(cmd *cobra.Command, f *runFlags, dir string, outcome error) error {
	if f.JUnit == "" {
		return outcome
	}
	f.junitWritten = true
	if err := writeJUnit(f.JUnit, dir); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "gameday: --junit: %v\n", err)
	}
	return outcome
}

// refusedJUnit writes the JUnit XML of a run refused before it had a
// journal, so CI shows the refusal as an error; a run that got as far as a
// journal has had its JUnit written by withJUnit.
func refusedJUnit(cmd *cobra.Command, f *runFlags, path string, refusal error) {
	if f.JUnit == "" || f.junitWritten || refusal == nil {
		return
	}
	err := saveJUnit(f.JUnit, func(w io.Writer) error { return gdreport.RefusedJUnit(w, path, refusal.Error(), time.Now()) })
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "gameday: --junit: %v\n", err)
	}
}

func writeJUnit(path, dir string) error {
	r, err := gdreport.Load(dir)
	if err != nil {
		return err
	}
	return saveJUnit(path, r.JUnit)
}

// saveJUnit writes to path what write produces, once it has all of it.
func saveJUnit(path string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

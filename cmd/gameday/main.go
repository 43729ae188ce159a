// Command gameday is a terminal console for chaos-engineering game days.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes, shared by every subcommand and documented in --help.
const (
	exitOK      = 0
	exitInvalid = 4 // invalid input or usage
)

const exitCodesHelp = `Exit codes:
  0  ok (for run: the hypothesis held)
  1  the hypothesis was refuted
  2  the game day was aborted (and everything rolled back)
  3  blocked: the steady state did not hold at baseline
  4  invalid input or usage (also: AWS credentials missing, expired or lapsing before the end)
  5  rollback incomplete: something may still be injected (see gameday recover)`

// exitError carries the exit code a failure maps to.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func invalid(err error) error { return &exitError{code: exitInvalid, err: err} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(stderr, ee.err)
		}
		return ee.code
	}
	// cobra's own errors: unknown command, bad flags, wrong argument count.
	fmt.Fprintf(stderr, "gameday: %v\nRun 'gameday --help' for usage.\n", err)
	return exitInvalid
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "gameday",
		Short: "A terminal console for chaos-engineering game days",
		Long: `gameday walks a team through a chaos-engineering game day:
baseline, hypothesis, blast radius, run, observe and conclude, with abort one
key away in every phase.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newValidateCmd(),
		newRunCmd(),
		newRecoverCmd(),
		newReportCmd(),
		newLabCmd(),
		newServeCmd(),
		newDrillCmd(),
		newNewCmd(),
		newScenariosCmd(),
		newKindsCmd(),
		newSchemaCmd(),
		newImportCmd(),
		newVersionCmd(),
	)
	return root
}

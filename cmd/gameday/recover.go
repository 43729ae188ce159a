package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/targets"
)

func newRecoverCmd() *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "recover [RUN_DIR|JOURNAL]",
		Short: "Roll back whatever a killed or failed run may have left injected",
		Long: `Roll back every attack whose intent is in a run's journal and whose rollback
was not confirmed, and append what was done to that journal. Rollbacks are
idempotent and a recovered run is marked as such, so running it twice is safe:
the second time finds nothing to do.

With no argument, every run under --runs-dir that did not finish (no run.end,
or injections left unreverted) is recovered. A run whose gameday process is
still alive is left alone: abort it there.

The SSH options must reach the hosts as the run did (same ssh_config,
known_hosts and keys).

Exit codes: 0 nothing left injected, 4 invalid input (no such run, damaged
journal, run still in progress), 5 something could still not be rolled back.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return recoverRuns(cmd, args, f)
		},
	}
	addTargetFlags(cmd, f)
	return cmd
}

func recoverRuns(cmd *cobra.Command, args []string, f *runFlags) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	var journals []string
	explicit := len(args) == 1
	if explicit {
		j, err := gamedays.JournalPath(args[0])
		if err != nil {
			return invalid(err)
		}
		journals = []string{j}
	} else {
		dir := f.RunsDir
		if dir == "" {
			dir = defaultRunsDir
		}
		var err error
		journals, err = gamedays.Unfinished(dir)
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stdout, "no runs directory %s: nothing to recover\n", dir)
			return nil
		}
		if err != nil {
			return invalid(err)
		}
		if len(journals) == 0 {
			fmt.Fprintf(stdout, "no unfinished runs in %s: nothing to recover\n", dir)
			return nil
		}
	}

	w := newWiring()
	defer w.close()
	words := gamedays.NewState(nil)
	opts := gamedays.RecoverOptions{
		Executor: func(family string) (targets.Executor, error) {
			_, e, err := w.family(family, f)
			return e, err
		},
		Timeout: f.AbortTimeout,
		Version: buildVersion(),
		OnEvent: func(ev gamedays.Event) {
			fmt.Fprintf(stderr, "%s\n", words.Describe(ev))
		},
	}
	failed, bad := 0, 0
	for _, j := range journals {
		rec, err := gamedays.Recover(ctx, j, opts)
		if errors.Is(err, gamedays.ErrInProgress) && !explicit {
			fmt.Fprintf(stdout, "%s: skipped: %v\n", j, gamedays.ErrInProgress)
			continue
		}
		if err != nil {
			bad++
			fmt.Fprintf(stderr, "%v\n", err)
			continue
		}
		report(stdout, stderr, rec)
		failed += len(rec.Failed)
	}
	switch {
	case failed > 0:
		return &exitError{code: exitRollback, err: fmt.Errorf("ROLLBACK INCOMPLETE: %d injection(s) may still be applied; fix what the errors say and run gameday recover again", failed)}
	case bad > 0:
		return &exitError{code: exitInvalid, err: fmt.Errorf("%d of %d journal(s) could not be recovered", bad, len(journals))}
	}
	return nil
}

// report says what one recovery found and did; failures go to stderr, loudly.
func report(stdout, stderr io.Writer, rec gamedays.Recovery) {
	if rec.Truncated != nil {
		fmt.Fprintf(stdout, "%s: line %d was incomplete (the run was killed while writing it); cut off and quoted in a note\n", rec.Journal, rec.Truncated.Line)
	}
	if rec.Idle() {
		how := "the run ended and every injection is rolled back"
		if rec.Recovered {
			how = "an earlier gameday recover finished this run and rolled every injection back"
		}
		fmt.Fprintf(stdout, "%s: nothing to do: %s\n", rec.Journal, how)
		return
	}
	if !rec.Ended && len(rec.Pending) == 0 {
		fmt.Fprintf(stdout, "%s: the run did not finish, but nothing had been injected; marked recovered\n", rec.Journal)
	}
	for _, inj := range rec.Reverted {
		fmt.Fprintf(stdout, "%s: rolled back %s (%s) on %s\n", rec.Journal, inj.Attack, inj.Kind, memberWhere(inj.Member))
	}
	for _, fl := range rec.Failed {
		fmt.Fprintf(stderr, "!!! %s: ROLLBACK FAILED: %s (%s) on %s: %s\n", rec.Journal, fl.Injection.Attack, fl.Injection.Kind, memberWhere(fl.Injection.Member), fl.Err)
	}
}

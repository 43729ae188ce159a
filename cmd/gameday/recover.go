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

// recoverFlags are recover's own options, beside the target connection
// options it shares with run.
type recoverFlags struct {
	// Yes rolls back without asking: for scripts.
	Yes bool
	// TrustJournal acts on a journal that is not authenticated or does not
	// hold together.
	TrustJournal bool
}

func newRecoverCmd() *cobra.Command {
	f := &runFlags{}
	rf := &recoverFlags{}
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

Recover runs what the journal says, as the run's user on the run's hosts,
so it acts only on a journal it can authenticate: gameday run seals every
line with a key kept outside the runs directory (see docs/cli.md). A journal
that is not sealed by this user's key, has a line changed, added, removed,
moved or damaged, or does not hold together (sequence gaps, another run's
run_id, an injection never confirmed, an intent after the run ended) is
refused, naming the line. --trust-journal recovers one such run anyway, for
a person who has read its journal; a damaged line is then skipped and the
rest used.

Before rolling anything back, recover shows what it will run on which host
and asks on the terminal; --yes skips the question, for scripts. Without a
terminal and without --yes it refuses.

The SSH options must reach the hosts as the run did (same ssh_config,
known_hosts and keys).

Exit codes: 0 nothing left injected, 4 invalid input (no such run, damaged
or unauthenticated journal, not confirmed, run still in progress), 5
something could still not be rolled back.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return recoverRuns(cmd, args, f, rf)
		},
	}
	addTargetFlags(cmd, f)
	cmd.Flags().BoolVar(&rf.Yes, "yes", false, "roll back without asking (for scripts)")
	cmd.Flags().BoolVar(&rf.TrustJournal, "trust-journal", false, "recover the named run even though its journal is not authenticated or does not hold together; read it first")
	return cmd
}

func recoverRuns(cmd *cobra.Command, args []string, f *runFlags, rf *recoverFlags) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	var journals []string
	explicit := len(args) == 1
	if rf.TrustJournal && !explicit {
		return invalid(errors.New("--trust-journal trusts one journal someone has read: name its run (gameday recover --trust-journal RUN_DIR)"))
	}
	key, err := journalKey(false)
	if err != nil {
		return invalid(err)
	}
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
		Key:          key,
		TrustJournal: rf.TrustJournal,
	}
	ask := newAsker(cmd.InOrStdin(), stdout, rf.Yes)
	opts.Confirm = ask.confirm
	failed, bad := 0, 0
	for _, j := range journals {
		rec, err := gamedays.Recover(ctx, j, opts)
		if errors.Is(err, gamedays.ErrInProgress) && !explicit {
			fmt.Fprintf(stdout, "%s: skipped: %v\n", j, gamedays.ErrInProgress)
			continue
		}
		var untrusted *gamedays.UntrustedError
		switch {
		case errors.As(err, &untrusted):
			fmt.Fprintf(stderr, "%v\nrefusing to recover from a journal that cannot be authenticated; nothing was rolled back. Read it, and if what it would roll back is what you expect, run: gameday recover --trust-journal %s\n", err, j)
		case errors.Is(err, gamedays.ErrNotConfirmed) && ask.why != "":
			fmt.Fprintf(stderr, "%v: %s\n", err, ask.why)
		case err != nil:
			fmt.Fprintf(stderr, "%v\n", err)
		}
		if err != nil {
			bad++
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
	if len(rec.Problems) > 0 {
		fmt.Fprintf(stderr, "warning: %s\n", untrustedLines(rec.Journal, rec.Problems))
	}
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

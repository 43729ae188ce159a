package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/gamedays/exporter"
	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/ui"
)

// Exit codes of run and recover beyond those in main.go.
const (
	exitRefuted  = 1
	exitAborted  = 2
	exitBlocked  = 3
	exitRollback = 5 // something may still be injected; overrides every other code
)

func newRunCmd() *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a game day from a runbook",
		Long: `Run a game day from a runbook: baseline, hypothesis, blast radius, run,
observe and conclude, recorded in a journal under --runs-dir.

With --autopilot nothing waits for a person: each phase advances on its own
and every event is one line on stderr (--json: a JSON line on stdout).
--junit FILE writes the result as JUnit XML when the run ends, for CI: a
test case per steady-state check, expectation, guardrail and expected alert;
an aborted or blocked run is an error. The
blast radius needs --yes unless every selected member is on this machine
(loopback, as in the lab). --dry-run resolves the targets, preflights them and
prints every command and API call, and injects nothing.

SIGINT, SIGTERM and SIGHUP abort: everything injected is rolled back before
gameday exits; a second Ctrl-C does not skip the rollback.

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// 0 in runFlags means "as written" for the lab; from the flag
			// it is a mistake, said as one.
			if cmd.Flags().Changed("time-scale") {
				if runbook.CheckTimeScale(f.TimeScale) != nil {
					return invalid(fmt.Errorf("--time-scale %g: expected a number above 0, at most %g", f.TimeScale, runbook.MaxTimeScale))
				}
			}
			return runFile(cmd, args[0], f)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&f.Autopilot, "autopilot", false, "run with no console: advance on its own, one line per event on stderr")
	fs.BoolVar(&f.JSON, "json", false, "write every event as a JSON line on stdout")
	fs.StringVar(&f.JUnit, "junit", "", "when the run ends, write its result as JUnit XML to FILE for CI (aborted and blocked runs are errors)")
	fs.BoolVar(&f.Verbose, "verbose", false, "autopilot: one line per member at every step, each failure in full (by default a run of more than 10 members says each step once, failures grouped by reason with the members named)")
	fs.BoolVar(&f.Yes, "yes", false, "confirm the blast radius (needed unless every member is on this machine)")
	fs.BoolVar(&f.DryRun, "dry-run", false, "resolve, preflight and print every command and API call; inject nothing")
	addConfirmEachFlag(cmd, f)
	fs.StringVar(&f.Prometheus, "prometheus", "", "Prometheus-compatible base URL (overrides "+metrics.EnvURL+" and the runbook)")
	fs.Float64Var(&f.TimeScale, "time-scale", 1, "rehearse: multiply the runbook's durations by this (0.1 runs it ten times faster; docs/runbook.md says what keeps its length)")
	fs.DurationVar(&f.FaultChecks, "fault-checks", 15*time.Second, "how often each landed SSH fault is checked to be still in place; one found gone ends the run as a fault that ended early")
	addListenFlags(cmd, f)
	addTargetFlags(cmd, f)
	return cmd
}

// runFile runs the runbook at path with the options in f and returns nil
// (held, or a dry run) or an *exitError whose code is the outcome. gameday
// lab calls it with a lab runbook.
func runFile(cmd *cobra.Command, path string, f *runFlags) (err error) {
	defer func() { refusedJUnit(cmd, f, path, err) }()
	return withSession(cmd, path, f, func(s *session) error {
		if !f.Autopilot && !f.DryRun {
			return runConsole(cmd, s)
		}
		return runAutopilot(cmd, s)
	})
}

// withSession prepares the runbook at path, refuses a --confirm-each-stage
// it cannot honour, and hands the session to use; the session's wiring and
// listeners are closed once use returns, whatever it returns.
func withSession(cmd *cobra.Command, path string, f *runFlags, use func(*session) error) error {
	s, err := prepare(cmd, path, f)
	if err != nil {
		return err
	}
	defer s.w.close()
	defer s.closeListeners()
	if err := checkConfirmEach(s.rb, f); err != nil {
		return err
	}
	return use(s)
}

// session is a runbook ready to run: loaded, its metrics and target
// families wired, nothing measured or touched yet.
type session struct {
	rb       *runbook.Runbook
	src      []byte
	cat      *targets.Catalogue
	observer gamedays.Observer // nil when the runbook has no panels
	query    metrics.Querier   // nil when the runbook has no panels
	w        *wiring
	f        *runFlags
	// alerts watches the runbook's alerts section; nil when it has none.
	alerts      gamedays.AlertWatcher
	closeAlerts func() error
	// eng is the engine once the run has one, for notes executors send.
	eng atomic.Pointer[gamedays.Engine]
	// exporter serves the run's own metrics (--metrics-listen); nil
	// when not asked for.
	exporter *exporter.Exporter
	exported *exporter.Server
}

// note journals what an executor learnt on its own (an FIS experiment
// AWS ended) as a note of the run; before the engine exists it is dropped.
func (s *session) note(source, msg string) {
	if e := s.eng.Load(); e != nil {
		e.Send(gamedays.Local, gamedays.Intent{Type: gamedays.IntentNote, Text: msg, Source: source, Author: source})
	}
}

// ended hands the engine a fault an executor saw end on its own; before
// the engine exists nothing was injected that could end.
func (s *session) ended(source string, inj targets.Injection, msg string) {
	if e := s.eng.Load(); e != nil {
		e.Lifted(source, inj, msg)
	}
}

func prepare(cmd *cobra.Command, path string, f *runFlags) (*session, error) {
	cat := targets.Default()
	rb, err := runbook.Load(path, cat)
	if err != nil {
		var list runbook.ErrorList
		if errors.As(err, &list) {
			return nil, invalid(fmt.Errorf("%s\n%s: %d problem(s); nothing was run", list, path, len(list)))
		}
		return nil, invalid(err)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, invalid(err)
	}
	if f.TimeScale != 0 && f.TimeScale != 1 {
		rb.Scale(f.TimeScale)
	}
	if f.AbortTimeout > 0 {
		rb.Abort.Timeout = f.AbortTimeout
	}
	if rb.Abort.Timeout <= 0 {
		rb.Abort.Timeout = 60 * time.Second
	}
	s := &session{rb: rb, src: src, cat: cat, w: newWiring(), f: f}
	f.Notes = s.note
	f.Ended = s.ended
	if len(rb.Metrics.Panels) > 0 {
		if _, _, err := metrics.ResolveURL(f.Prometheus, f.Getenv, rb.Metrics); err != nil {
			return nil, invalid(fmt.Errorf("%s: %w", path, err))
		}
		client, err := metrics.NewClient(context.Background(), rb.Metrics, metrics.Options{URL: f.Prometheus, Getenv: f.Getenv})
		if err != nil {
			return nil, invalid(fmt.Errorf("%s: metrics: %w", path, err))
		}
		cfg := metrics.ConfigFor(rb.Metrics, rb.Metrics.Panels, client.URL)
		cfg.Timeout = client.Timeout
		s.observer = metrics.NewPoller(client.API, cfg)
		s.query = client.API
		if err := s.wireAlerts(path, client); err != nil {
			return nil, invalid(err)
		}
	}
	if err := s.listenMetrics(path); err != nil {
		return nil, invalid(err)
	}
	for _, a := range rb.Attacks {
		t, _ := rb.Target(a.Target)
		if _, _, err := s.w.family(t.Family(), f); err != nil {
			s.w.close()
			return nil, invalid(fmt.Errorf("%s: target %s: %w", path, t.Name, err))
		}
	}
	return s, nil
}

// begin makes the run directory and its journal, and the engine options
// every way of driving a run shares. The caller sets how it drives the
// engine (AutoAdvance, AutoConfirm, OnEvent) and closes the journal.
func (s *session) begin(ctx context.Context) (dir string, j *gamedays.Journal, opts gamedays.Options, err error) {
	// Credentials that do not work, or lapse mid-run, block the run before
	// it has a journal: nothing has been measured or touched.
	if err := checkCredentials(ctx, s.rb, s.w); err != nil {
		return "", nil, opts, invalid(err)
	}
	key, err := journalKey(true)
	if err != nil {
		return "", nil, opts, invalid(err)
	}
	dir, err = makeRunDir(s.f.RunsDir, s.rb.Name, time.Now())
	if err != nil {
		return "", nil, opts, invalid(err)
	}
	j, err = gamedays.CreateSealedJournal(filepath.Join(dir, gamedays.JournalName), gamedays.WallClock(), key)
	if err != nil {
		return "", nil, opts, invalid(err)
	}
	opts = gamedays.Options{
		RunID:     filepath.Base(dir),
		Source:    s.src,
		Journal:   j,
		Catalogue: s.cat,
		Resolvers: s.w.resolvers,
		Executors: s.w.executors,
		Metrics:   s.observer,
		Alerts:    s.alerts,
		DryRun:    s.f.DryRun,
		Version:   buildVersion(),

		ConfirmEachStage: s.f.ConfirmEachStage,
		// --fanout bounds the hosts worked on at once; the engine's own
		// bound would otherwise hold an attack to 64 whatever it says.
		Parallel: s.f.Fanout,
	}
	if f := s.f.TimeScale; f != 0 && f != 1 {
		opts.TimeScale = f
	}
	return dir, j, opts, nil
}

// runConsole runs the game day in the interactive console: the facilitator
// reviews and confirms the blast radius there, so --yes is not needed.
func runConsole(cmd *cobra.Command, s *session) error {
	if err := needTerminal(s); err != nil {
		return err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	dir, journal, opts, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer journal.Close()
	c := ui.New(ui.Config{Runbook: s.rb, File: s.rb.File, RunDir: dir, Metrics: s.observer, Version: opts.Version, Remaining: remainingFor(s)})
	opts.OnEvent = s.tee(c.OnEvent)
	eng := gamedays.New(s.rb, opts)
	s.eng.Store(eng)
	defer eng.Flush() // notes after the end reach the journal before it closes
	out, runErr := c.Run(ctx, eng)
	eng.Flush()
	return withJUnit(cmd, s.f, dir, outcomeError(cmd.ErrOrStderr(), dir, out, runErr, ""))
}

func needTerminal(s *session) error {
	if !term.IsTerminal(int(os.Stdin.Fd())) || !term.IsTerminal(int(os.Stdout.Fd())) {
		return invalid(fmt.Errorf("%s: the console needs a terminal; pass --autopilot to run unattended (with --yes to confirm the blast radius), or --dry-run to see what would run", s.rb.File))
	}
	return nil
}

// runAutopilot runs with nobody at the keys: every phase advances on its
// own and the events are logged.
func runAutopilot(cmd *cobra.Command, s *session) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	guard := !s.f.Yes && !s.f.DryRun
	if guard {
		if err := refuseUnconfirmed(ctx, s.rb, s.w); err != nil {
			return invalid(err)
		}
	}
	dir, journal, opts, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer journal.Close()

	log := &gamedays.Log{Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), JSON: s.f.JSON, DryRun: s.f.DryRun, Verbose: s.f.Verbose, Journal: journal.Path()}
	var eng *gamedays.Engine
	var refused sync.Once
	refusedWhy := ""
	// The blast radius was confirmed by --yes or by refuseUnconfirmed
	// finding only loopback members; the check on the selection holds the
	// engine to what was checked.
	opts.AutoAdvance, opts.AutoConfirm = true, true
	opts.OnEvent = s.tee(func(ev gamedays.Event) {
		log.Event(ev)
		if !guard || ev.Type != gamedays.EvSelected {
			return
		}
		for _, m := range ev.Members {
			if !onThisMachine(m) {
				refused.Do(func() {
					refusedWhy = fmt.Sprintf("target %s selected %s, which is not on this machine; pass --yes to confirm the blast radius, or run the console to review it", ev.Target, memberWhere(m))
					eng.Send(gamedays.Local, gamedays.Intent{Type: gamedays.IntentAbort, Source: "blast radius", Text: "not confirmed"})
				})
			}
		}
	})
	eng = gamedays.New(s.rb, opts)
	s.eng.Store(eng)
	defer eng.Flush()

	// Signals stay caught until gameday exits: a late Ctrl-C must not kill
	// it while it reports what may still be injected.
	defer relaySignals(eng, cmd.ErrOrStderr(), s.rb.Abort.Timeout)()
	out, runErr := eng.Run(ctx)
	eng.Flush()
	return withJUnit(cmd, s.f, dir, outcomeError(cmd.ErrOrStderr(), dir, out, runErr, refusedWhy))
}

// refuseUnconfirmed resolves every attacked target and refuses, before
// anything is measured or touched, when a member is not on this machine.
func refuseUnconfirmed(ctx context.Context, rb *runbook.Runbook, w *wiring) error {
	seen := map[string]bool{}
	var away []string
	for _, a := range rb.Attacks {
		if seen[a.Target] {
			continue
		}
		seen[a.Target] = true
		t, _ := rb.Target(a.Target)
		members, err := w.resolvers[t.Family()].Resolve(ctx, t)
		if err != nil {
			return fmt.Errorf("%s: resolve target %s: %w", rb.File, t.Name, err)
		}
		for _, m := range members {
			if !onThisMachine(m) {
				where := m.ID
				if m.Addr != "" && m.Addr != m.ID {
					where += " (" + m.Addr + ")"
				}
				away = append(away, t.Name+": "+where)
			}
		}
	}
	if len(away) == 0 {
		return nil
	}
	return fmt.Errorf("%s: refusing to run unconfirmed: %d member(s) are not on this machine: %s\npass --yes to confirm the blast radius, or run the console (without --autopilot) to review it",
		rb.File, len(away), strings.Join(away, ", "))
}

// maxSlug keeps run ids within 64 characters, counter included.
const maxSlug = 40

// makeRunDir creates <runsDir>/<UTC timestamp>-<slug>, adding a counter when
// two runs of one runbook start in the same second.
func makeRunDir(runsDir, name string, now time.Time) (string, error) {
	if runsDir == "" {
		runsDir = defaultRunsDir
	}
	// A journal holds the runbook, the hosts and what recover will run on
	// them: nobody but the user reads or adds to a run directory.
	if err := os.MkdirAll(runsDir, 0o700); err != nil {
		return "", fmt.Errorf("create runs directory: %w", err)
	}
	// The directory name is the run id, which executors use to name their
	// state on each host; kept short so no executor has to cut it.
	short := slug(name)
	short = strings.TrimRight(short[:min(len(short), maxSlug)], "-")
	base := filepath.Join(runsDir, now.UTC().Format("20060102T150405Z")+"-"+short)
	dir := base
	for n := 2; ; n++ {
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrExist) || n > 100 {
			return "", fmt.Errorf("create run directory: %w", err)
		}
		dir = fmt.Sprintf("%s-%d", base, n)
	}
}

// relaySignals turns SIGINT, SIGTERM and SIGHUP into abort intents. Once the
// abort is under way, further signals are acknowledged and do not cut the
// rollback short. The returned func stops the relay.
func relaySignals(eng *gamedays.Engine, stderr io.Writer, timeout time.Duration) func() {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		n := 0
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				n++
				name := signalName(s)
				if n == 1 {
					fmt.Fprintf(stderr, "gameday: %s: aborting; rolling back everything injected (deadline %s)\n", name, runbook.FormatDuration(timeout))
				} else {
					fmt.Fprintf(stderr, "gameday: %s again: the rollback continues and will not be skipped; gameday exits when it is done (deadline %s)\n", name, runbook.FormatDuration(timeout))
				}
				eng.Send(gamedays.Local, gamedays.Intent{Type: gamedays.IntentAbort, Source: name})
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
		<-finished
	}
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}

// outcomeError maps how the game day ended to an exit code, printing what
// may still be injected first and loudest.
func outcomeError(stderr io.Writer, dir string, out gamedays.Outcome, runErr error, refusedWhy string) error {
	if n := len(out.Unreverted); n > 0 {
		fmt.Fprintf(stderr, "\n!!! ROLLBACK INCOMPLETE: %d injection(s) may still be applied !!!\n", n)
		for _, inj := range out.Unreverted {
			fmt.Fprintf(stderr, "!!!   %s (%s) on %s %s\n", inj.Attack, inj.Kind, inj.Member.Target, memberWhere(inj.Member))
		}
		fmt.Fprintf(stderr, "!!! run: gameday recover %s\n", dir)
		return &exitError{code: exitRollback, err: fmt.Errorf("rollback incomplete; journal in %s", dir)}
	}
	if runErr != nil {
		return &exitError{code: exitAborted, err: fmt.Errorf("%w; journal in %s", runErr, dir)}
	}
	if refusedWhy != "" {
		return invalid(fmt.Errorf("refusing to inject: %s; nothing was injected (journal in %s)", refusedWhy, dir))
	}
	summary := fmt.Errorf("verdict %s: %s (journal in %s)", out.Verdict, out.Reason, dir)
	switch out.Verdict {
	case gamedays.VerdictHeld:
		fmt.Fprintf(stderr, "gameday: %v\n", summary)
		return nil
	case gamedays.VerdictRefuted:
		return &exitError{code: exitRefuted, err: summary}
	case gamedays.VerdictAborted:
		// What the abort undid is what the room asks first.
		undone := "nothing had been injected"
		if out.Pending > 0 {
			undone = fmt.Sprintf("%d of %d injection(s) rolled back", out.RolledBack, out.Pending)
		}
		return &exitError{code: exitAborted, err: fmt.Errorf("verdict aborted: %s; %s (journal in %s)", out.Reason, undone, dir)}
	case gamedays.VerdictBlocked:
		return &exitError{code: exitBlocked, err: summary}
	}
	fmt.Fprintf(stderr, "gameday: %s; journal in %s\n", out.Reason, dir)
	return nil
}

func memberWhere(m targets.Member) string { return gamedays.MemberWhere(m) }

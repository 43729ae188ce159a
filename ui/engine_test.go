package ui

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/gamedays/report"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/metrics/metricstest"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/targetstest"
)

// live is a real engine on a manual clock, with fake hosts and a fake
// Prometheus behind a real poller, shown by a real console through
// Console.Run on a pipe.
type live struct {
	t       *testing.T
	clock   *gamedays.ManualClock
	exec    *targetstest.Executor
	q       *metricstest.Querier
	eng     *gamedays.Engine
	c       *Console
	keys    *io.PipeWriter
	out     *e2e.Screen
	journal string
	done    chan struct{}
	cancel  context.CancelFunc
	outcome gamedays.Outcome
	err     error
}

func newLive(t *testing.T) *live { return newLiveWith(t, nil) }

// newLiveWith lets a test shape the runbook and the console's config before
// anything starts.
func newLiveWith(t *testing.T, prep func(rb *runbook.Runbook, cfg *Config)) *live {
	t.Helper()
	rb := parseRunbook(t)
	l := &live{t: t, clock: gamedays.NewManualClock(t0), exec: &targetstest.Executor{InjectOutput: "tc qdisc add dev eth0 root netem delay 200ms\nok", RollbackOutput: "reverted"}, out: &e2e.Screen{}, done: make(chan struct{})}
	l.q = &metricstest.Querier{Series: instances, Value: func(query, inst string, ts time.Time) float64 {
		if query == "errors" {
			return 0.001
		}
		if inst == "web-2" && l.exec.Active() > 0 {
			return 0.15
		}
		return 0.1
	}}
	poller := metrics.NewPoller(l.q, metrics.Config{Panels: rb.Metrics.Panels, Step: time.Second, Now: l.clock.Now, Since: t0})
	runDir := t.TempDir()
	l.journal = filepath.Join(runDir, gamedays.JournalName)
	j, err := gamedays.CreateJournal(l.journal, l.clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	in, keys := io.Pipe()
	l.keys = keys
	cfg := Config{Runbook: rb, File: "checkout.yaml", RunDir: runDir, Metrics: poller, Version: "test", Input: in, Output: l.out}
	if prep != nil {
		prep(rb, &cfg)
	}
	l.c = New(cfg)
	l.c.clock = l.clock.Now
	l.eng = gamedays.New(rb, gamedays.Options{RunID: "r1", Journal: j, Clock: l.clock, Catalogue: targets.Default(),
		Resolvers: map[string]targets.Resolver{"ssh": targetstest.Resolver{Port: "22"}},
		Executors: map[string]targets.Executor{"ssh": l.exec},
		Metrics:   poller, OnEvent: l.c.OnEvent, Drill: cfg.Drill})
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go func() {
		l.outcome, l.err = l.c.Run(ctx, l.eng)
		close(l.done)
	}()
	t.Cleanup(func() {
		cancel()
		keys.Close()
		select {
		case <-l.done:
		case <-time.After(20 * time.Second):
			t.Error("the console did not return")
		}
	})
	return l
}

// until advances the engine's clock a second at a time, whenever the
// engine is parked on it, until cond holds; bounded in wall time.
func (l *live) until(what string, cond func() bool) {
	l.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			l.t.Fatalf("waited 20s for %s; screen:\n%s", what, l.screen())
		}
		if l.clock.Settled() {
			l.clock.Advance(time.Second)
		} else {
			time.Sleep(200 * time.Microsecond)
		}
	}
}

// shows waits, without moving the clock, until the console has drawn text.
func (l *live) shows(text string) {
	l.t.Helper()
	l.out.WaitText(l.t, 20*time.Second, "the console", text)
}

func (l *live) screen() string {
	s := l.out.String()
	return s[max(0, len(s)-4000):]
}

func (l *live) press(s string) {
	l.t.Helper()
	e2e.Type(l.t, l.keys, s)
}

func (l *live) wait() {
	l.t.Helper()
	select {
	case <-l.done:
	case <-time.After(20 * time.Second):
		l.t.Fatalf("Run did not return (engine phase %s); screen:\n%q", l.eng.Phase(), l.screen())
	}
}

func (l *live) phaseIs(p gamedays.Phase) func() bool {
	return func() bool { return l.eng.Phase() == p }
}

// toTheAttack walks the game day by the facilitator's keys from the start
// to the moment a fault is applied: enter past the hypothesis, Y on the
// blast radius.
func (l *live) toTheAttack() {
	l.t.Helper()
	l.until("the hypothesis", l.phaseIs(gamedays.PhaseHypothesis))
	l.shows("HYPOTHESIS")
	l.press("\r")
	l.until("the blast radius", l.phaseIs(gamedays.PhaseBlastRadius))
	l.shows("Press Y to confirm")
	l.press("Y")
	l.until("the attack", func() bool { return l.exec.Active() > 0 })
}

// A whole game day driven by keys through Console.Run: baseline, the
// hypothesis (enter), the blast radius (Y), run and observe, conclude (q).
func TestConsoleDrivesARealEngine(t *testing.T) {
	l := newLive(t)
	l.until("the hypothesis", l.phaseIs(gamedays.PhaseHypothesis))
	l.shows("HYPOTHESIS")
	l.press("p")
	l.press("web-2 doubles\r")
	l.press("\r")
	l.until("the blast radius", l.phaseIs(gamedays.PhaseBlastRadius))
	l.shows("Press Y to confirm")
	if l.exec.Injects() != 0 {
		t.Fatal("injected before the confirmation")
	}
	l.press("Y")
	l.until("the attack", func() bool { return l.exec.Active() > 0 })
	l.until("conclude", l.phaseIs(gamedays.PhaseConclude))
	l.shows("Verdict:")
	l.press("f")
	l.press("retries hid it\r")
	l.press("\r") // finish: the engine ends the game day, the console stays
	l.shows("has ended")
	l.press("e")
	l.shows("report written")
	l.press("q")
	l.wait()
	files := []string{"report.md", "report.html", "report.json", "actions.md"}
	// e prints the PDF too when a browser is there to print it.
	if _, err := report.FindBrowser(); err == nil {
		files = append(files, "report.pdf")
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(filepath.Dir(l.journal), f)); err != nil {
			t.Errorf("report: %v", err)
		}
	}
	if l.err != nil {
		t.Fatal(l.err)
	}
	if l.outcome.Verdict != gamedays.VerdictHeld {
		t.Errorf("verdict %s: %s", l.outcome.Verdict, l.outcome.Reason)
	}
	if l.exec.Injects() != 1 || l.exec.Rollbacks() != 1 || l.exec.Active() != 0 {
		t.Errorf("injects %d rollbacks %d active %d", l.exec.Injects(), l.exec.Rollbacks(), l.exec.Active())
	}
	events, warn, err := gamedays.ReadJournal(l.journal)
	if err != nil || warn != nil {
		t.Fatal(err, warn)
	}
	kinds := map[string]string{}
	for _, ev := range events {
		if ev.Type == gamedays.EvNote && ev.Kind != "" {
			kinds[ev.Kind] = ev.Msg
		}
	}
	if kinds["prediction"] != "web-2 doubles" || kinds["finding"] != "retries hid it" {
		t.Errorf("notes in the journal: %v", kinds)
	}
	if events[len(events)-1].Type != gamedays.EvRunEnd {
		t.Errorf("journal ends with %s", events[len(events)-1].Type)
	}
}

// Ctrl-C during the attack: abort, roll back, and Run returns by itself.
func TestCtrlCAbortsRollsBackAndReturns(t *testing.T) {
	l := newLive(t)
	l.toTheAttack()
	l.shows("ACTIVE")
	l.press("\x03")
	l.press("\x03") // a second ctrl+c must not skip the rollback
	l.wait()
	if l.outcome.Verdict != gamedays.VerdictAborted || l.exec.Active() != 0 || len(l.outcome.Unreverted) != 0 {
		t.Fatalf("verdict %s active %d unreverted %v", l.outcome.Verdict, l.exec.Active(), l.outcome.Unreverted)
	}
	if l.exec.Rollbacks() != 1 {
		t.Errorf("%d rollbacks, want 1", l.exec.Rollbacks())
	}
}

// A caller that cancels (the CLI on a signal, an SSH server shutting down)
// gets the rollback done before Run returns, and the console closes itself.
func TestCancelledContextRollsBackAndReturns(t *testing.T) {
	l := newLive(t)
	l.toTheAttack()
	l.cancel()
	l.wait()
	if l.outcome.Verdict != gamedays.VerdictAborted || l.exec.Active() != 0 {
		t.Fatalf("verdict %s active %d", l.outcome.Verdict, l.exec.Active())
	}
}

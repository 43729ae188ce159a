package gamedays

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/metrics/metricstest"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/targetstest"
	"go.uber.org/goleak"
)

const testRunbook = `version: 1
name: engine test
metrics:
  step: 1s
  panels:
    p95: {query: latency, unit: seconds}
    error_rate: {query: errors, unit: ratio}
baseline:
  duration: 20s
  steady_state: {p95: "< 300ms", error_rate: "< 1%"}
hypothesis:
  statement: latency on one host stays tolerable
  expect: {p95: "< baseline * 2", error_rate: "< 2%"}
guardrails:
  p95: "> 2s for 5s"
  metrics_blind: 10s
targets:
  web: {ssh: {hosts: [web-1, web-2, web-3]}}
blast_radius:
  web: {count: 1, seed: 3}
attacks:
  - {name: slow, target: web, kind: network-latency, params: {interface: eth0, delay: 200ms}, start_after: 5s, duration: 30s}
observe: {duration: 40s}
`

type harness struct {
	t       *testing.T
	clock   *ManualClock
	q       *metricstest.Querier
	exec    *targetstest.Executor
	engine  *Engine
	journal string
	mu      sync.Mutex
	events  []Event
}

// newHarness builds an engine whose metrics read base latency, plus extra
// while anything is injected.
func newHarness(t *testing.T, src string, base, extra float64) *harness {
	t.Helper()
	cat := targets.Default()
	rb, err := runbook.Parse("test.yaml", []byte(src), cat)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, clock: NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)), exec: &targetstest.Executor{InjectOutput: "ok"}}
	h.q = &metricstest.Querier{Value: func(q, _ string, ts time.Time) float64 {
		if q == "errors" {
			return 0.001
		}
		if h.exec.Active() > 0 {
			return base + extra
		}
		return base
	}}
	poller := metrics.NewPoller(h.q, metrics.Config{Panels: rb.Metrics.Panels, Step: time.Second, Now: h.clock.Now, Since: h.clock.Now()})
	h.journal = filepath.Join(t.TempDir(), "journal.jsonl")
	j, err := CreateJournal(h.journal, h.clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	h.engine = New(rb, Options{
		RunID: "test-run", Source: []byte(src), Journal: j, Clock: h.clock, Catalogue: cat,
		Resolvers: map[string]targets.Resolver{"ssh": targetstest.Resolver{}},
		Executors: map[string]targets.Executor{"ssh": targetstest.Prober{Executor: h.exec}},
		Metrics:   poller, AutoAdvance: true, AutoConfirm: true,
		OnEvent: func(ev Event) { h.mu.Lock(); h.events = append(h.events, ev); h.mu.Unlock() },
	})
	return h
}

// run drives the manual clock a second at a time whenever the engine waits
// on it, until Run returns; bounded so a bug cannot hang the test.
func (h *harness) run(during func(elapsed time.Duration)) Outcome {
	h.t.Helper()
	type result struct {
		out Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := h.engine.Run(context.Background())
		done <- result{out, err}
	}()
	start := h.clock.Now()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case r := <-done:
			if r.err != nil {
				h.t.Fatal(r.err)
			}
			return r.out
		default:
		}
		if h.clock.Settled() {
			h.clock.Advance(time.Second)
			if during != nil {
				during(h.clock.Now().Sub(start))
			}
		} else {
			time.Sleep(100 * time.Microsecond)
		}
	}
	h.t.Fatal("engine did not finish within 20s of wall time")
	return Outcome{}
}

func (h *harness) types() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.events {
		out = append(out, e.Type)
	}
	return out
}

func (h *harness) has(typ, substr string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.events {
		if e.Type == typ && strings.Contains(e.Msg, substr) {
			return true
		}
	}
	return false
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHeld(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	out := h.run(nil)
	if out.Verdict != VerdictHeld {
		t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
	}
	if h.exec.Injects() != 1 || h.exec.Rollbacks() != 1 || h.exec.Active() != 0 {
		t.Errorf("injects %d rollbacks %d active %d; want 1, 1, 0", h.exec.Injects(), h.exec.Rollbacks(), h.exec.Active())
	}
	if len(out.Expectations) != 2 || !out.Expectations[0].Held {
		t.Errorf("expectations: %+v", out.Expectations)
	}
	h.checkJournal()
}

func TestRefuted(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.5) // 600ms during the attack > baseline*2
	out := h.run(nil)
	if out.Verdict != VerdictRefuted || !strings.Contains(out.Reason, "p95") {
		t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
	}
	if h.exec.Active() != 0 {
		t.Error("attack left applied")
	}
}

func TestBlockedInjectsNothing(t *testing.T) {
	h := newHarness(t, testRunbook, 0.5, 0) // 500ms baseline breaks "< 300ms"
	out := h.run(nil)
	if out.Verdict != VerdictBlocked || !strings.Contains(out.Reason, "p95") {
		t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
	}
	if h.exec.Injects() != 0 {
		t.Errorf("%d injects on a sick system", h.exec.Injects())
	}
	// The team writes up why after the run has ended; it reaches the journal.
	h.engine.Send(Local, Intent{Type: IntentNote, Kind: "finding", Text: "baseline p95 was 500ms before we began", Author: "Ben"})
	h.engine.Flush()
	if err := h.engine.opts.Journal.Sync(); err != nil {
		t.Fatal(err)
	}
	events, _, err := ReadJournal(h.journal)
	if err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	if last.Type != EvNote || last.Kind != "finding" || last.Author != "Ben" || !strings.Contains(last.Msg, "baseline p95 was 500ms") {
		t.Errorf("a finding sent after the end was not journalled; last event %+v", last)
	}
}

func TestGuardrailAbortsAndRollsBack(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 5) // 5.1s during the attack trips "> 2s for 5s"
	out := h.run(nil)
	if out.Verdict != VerdictAborted || !strings.HasPrefix(out.Reason, "guardrail p95 > 2s for 5s: ") {
		t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
	}
	if h.exec.Active() != 0 || len(out.Unreverted) != 0 {
		t.Errorf("active %d, unreverted %v", h.exec.Active(), out.Unreverted)
	}
	if !h.has(EvGuardrail, "p95") {
		t.Errorf("no guardrail event: %v", h.types())
	}
	h.checkJournal()
}

func TestAbortIntentInEveryPhase(t *testing.T) {
	for _, at := range []time.Duration{3 * time.Second, 27 * time.Second, 40 * time.Second} {
		t.Run(at.String(), func(t *testing.T) {
			h := newHarness(t, testRunbook, 0.1, 0.05)
			sent := false
			out := h.run(func(el time.Duration) {
				if el >= at && !sent {
					sent = true
					h.engine.Send(Local, Intent{Type: IntentAbort, Source: "key", Author: "Ana"})
					h.engine.Send(Local, Intent{Type: IntentAbort, Source: "key", Author: "Ben"}) // a second press must not skip rollback
				}
			})
			if out.Verdict != VerdictAborted || h.exec.Active() != 0 {
				t.Fatalf("verdict %s, active %d", out.Verdict, h.exec.Active())
			}
			// The report says who pressed abort: the first press is the abort.
			h.mu.Lock()
			defer h.mu.Unlock()
			var who []string
			for _, e := range h.events {
				if e.Type == EvAbort {
					who = append(who, e.Author+": "+e.Msg)
				}
			}
			slices.Sort(who)
			if len(who) != 2 || !strings.HasPrefix(who[0], "Ana: the abort key was pressed by Ana; rolling back") || !strings.HasPrefix(who[1], "Ben: abort requested again") {
				t.Errorf("abort events %q, want the abort by Ana and the repeat by Ben", who)
			}
		})
	}
}

func TestRollbackFailureIsLoud(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	h.exec.RollbackErr = errors.New("host unreachable")
	sent := false
	out := h.run(func(el time.Duration) {
		if el >= 30*time.Second && !sent {
			sent = true
			h.engine.Send(Local, Intent{Type: IntentAbort, Source: "key"})
		}
	})
	if out.Verdict != VerdictAborted || len(out.Unreverted) != 1 || !strings.Contains(out.Reason, "ROLLBACK INCOMPLETE") {
		t.Fatalf("verdict %s unreverted %d: %s", out.Verdict, len(out.Unreverted), out.Reason)
	}
}

func TestPreflightFailureInjectsNothing(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	h.exec.PreflightErr = errors.New("sudo needs a password")
	out := h.run(nil)
	if out.Verdict != VerdictAborted || !strings.Contains(out.Reason, "sudo needs a password") || h.exec.Injects() != 0 {
		t.Fatalf("verdict %s injects %d: %s", out.Verdict, h.exec.Injects(), out.Reason)
	}
}

func TestMetricsBlindAborts(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	out := h.run(func(el time.Duration) {
		if el == 26*time.Second {
			h.q.Down(true)
		}
	})
	if out.Verdict != VerdictAborted || !strings.Contains(out.Reason, "blind") || h.exec.Active() != 0 {
		t.Fatalf("verdict %s active %d: %s", out.Verdict, h.exec.Active(), out.Reason)
	}
}

func (h *harness) checkJournal() {
	h.t.Helper()
	events, warn, err := ReadJournal(h.journal)
	if err != nil || warn != nil {
		h.t.Fatalf("read journal: %v %v", err, warn)
	}
	if len(events) == 0 || events[0].Type != EvRunStart || events[len(events)-1].Type != EvRunEnd {
		h.t.Fatalf("journal does not run from start to end: %d events", len(events))
	}
	intents, rollbacks := 0, 0
	for i, e := range events {
		if e.Seq != int64(i+1) {
			h.t.Fatalf("event %d has seq %d", i, e.Seq)
		}
		switch e.Type {
		case EvAttackIntent:
			intents++
		case EvRollbackResult:
			if e.OK != nil && *e.OK {
				rollbacks++
			}
		}
	}
	if intents == 0 || intents != rollbacks {
		h.t.Errorf("journal: %d intents, %d confirmed rollbacks", intents, rollbacks)
	}
}

// The run's samples reach the journal while it goes, so a killed run keeps
// them, and no point is written twice.
func TestSamplesJournalledAsTheRunGoes(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	var duringRun int
	h.run(func(time.Duration) {
		if h.engine.Phase() != PhaseRun && h.engine.Phase() != PhaseObserve {
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		duringRun = 0
		for _, e := range h.events {
			if e.Type == EvSample && !e.Time.Before(h.engine.start) {
				duringRun++
			}
		}
	})
	if duringRun < 2 {
		t.Errorf("%d sample events were journalled before the run ended; want them every %s", duringRun, sampleFlush)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	run := 0
	for _, e := range h.events {
		for _, s := range e.Samples {
			k := s.Panel + "/" + s.Series + "@" + s.T.String()
			if seen[k] {
				t.Fatalf("sample %s journalled twice", k)
			}
			seen[k] = true
			if !s.T.Before(h.engine.start) {
				run++
			}
		}
	}
	// 40s of observe at a 1s step on two panels, both ends included.
	if run < 2*40 {
		t.Errorf("%d run samples journalled, want at least %d", run, 2*40)
	}
}

// Injects belong to the run phase even when every attack starts at once.
func TestInjectsAreJournalledUnderRun(t *testing.T) {
	h := newHarness(t, strings.Replace(testRunbook, "start_after: 5s", "start_after: 0s", 1), 0.1, 0.05)
	if out := h.run(nil); out.Verdict != VerdictHeld {
		t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, e := range h.events {
		if e.Type == EvAttackIntent || e.Type == EvAttackResult {
			n++
			if e.Phase != PhaseRun.String() {
				t.Errorf("%s journalled under %q, want run", e.Type, e.Phase)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d attack events, want an intent and a result", n)
	}
}

// A dry run resolves and preflights at once, on a sick system too, and
// injects nothing.
func TestDryRunSkipsTheBaseline(t *testing.T) {
	h := newHarness(t, testRunbook, 0.5, 0) // a baseline this bad would block a real run
	h.engine.opts.DryRun = true
	start := h.clock.Now()
	out := h.run(nil)
	if out.Verdict != VerdictNone || out.Reason != "dry run" {
		t.Fatalf("verdict %q: %s", out.Verdict, out.Reason)
	}
	if h.exec.Injects() != 0 {
		t.Errorf("a dry run injected %d times", h.exec.Injects())
	}
	if waited := h.clock.Now().Sub(start); waited >= 20*time.Second {
		t.Errorf("the dry run waited %s of engine time, as long as the baseline", waited)
	}
	if !h.has(EvNote, "dry run: the baseline is not measured") || slices.Contains(h.types(), EvBaseline) {
		t.Errorf("events %v", h.types())
	}
}

// While the room discusses the hypothesis, metrics keep arriving: a pause for
// a key must not look like a blind metrics source.
func TestMetricsStayLiveWhileWaitingForTheRoom(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	h.engine.opts.AutoAdvance = false
	var lag time.Duration
	sent := false
	out := h.run(func(el time.Duration) {
		switch h.engine.Phase() {
		case PhaseHypothesis:
			if el < 50*time.Second || sent { // 30s into the discussion
				return
			}
			m := h.engine.opts.Metrics
			series := m.Series("p95")
			if len(series) == 0 {
				t.Error("no p95 series while waiting")
			} else {
				lag = h.clock.Now().Sub(m.End("p95", series[0]))
			}
			sent = true
			h.engine.Send(Local, Intent{Type: IntentNext})
		case PhaseConclude:
			h.engine.Send(Local, Intent{Type: IntentNext})
		}
	})
	if out.Verdict != VerdictHeld {
		t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
	}
	if !sent || lag > 3*time.Second {
		t.Errorf("after 30s waiting for a key the newest p95 point was %s old; want it kept within a poll or two", lag)
	}
}

// A metrics server that never answers blocks the game day as soon as the
// runbook's metrics_blind has passed, not at the end of the baseline.
func TestUnreachableMetricsBlockEarly(t *testing.T) {
	h := newHarness(t, strings.Replace(testRunbook, "duration: 20s", "duration: 2m", 1), 0.1, 0)
	h.q.Down(true)
	start := h.clock.Now()
	out := h.run(nil)
	if out.Verdict != VerdictBlocked || !strings.Contains(out.Reason, "has not answered panel") || !strings.Contains(out.Reason, "connection refused") {
		t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
	}
	if waited := h.clock.Now().Sub(start); waited > 15*time.Second {
		t.Errorf("blocked after %s of a 2m baseline; want soon after metrics_blind (10s)", waited)
	}
	if h.exec.Injects() != 0 {
		t.Errorf("%d injects while blind", h.exec.Injects())
	}
}

// An abort after the verdict (a signal, or the session closing while the
// room writes its findings) ends the run and leaves the verdict standing:
// every attack was rolled back before it, and the run found what it found.
func TestAbortAfterTheVerdictKeepsIt(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra float64
		want  Verdict
	}{{"held", 0.05, VerdictHeld}, {"refuted", 0.5, VerdictRefuted}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, testRunbook, 0.1, tc.extra)
			h.engine.opts.AutoAdvance = false
			sent := false
			out := h.run(func(time.Duration) {
				switch h.engine.Phase() {
				case PhaseHypothesis:
					h.engine.Send(Local, Intent{Type: IntentNext})
				case PhaseConclude:
					if !sent && h.has(EvVerdict, "") {
						sent = true
						h.engine.Send(Local, Intent{Type: IntentAbort, Source: "SIGHUP"})
					}
				}
			})
			if !sent {
				t.Fatal("the run never waited in conclude")
			}
			if out.Verdict != tc.want {
				t.Fatalf("verdict %s after an abort in conclude: %s", out.Verdict, out.Reason)
			}
			if !h.has(EvAbort, "SIGHUP received after the verdict, which stands; rolling back 0 injection(s)") {
				t.Errorf("the abort is not journalled as coming after the verdict: %v", h.types())
			}
			events, _, err := ReadJournal(h.journal)
			if err != nil {
				t.Fatal(err)
			}
			st := Fold(events)
			if st.Verdict != tc.want || st.Phase == PhaseAborted {
				t.Errorf("the journal folds to verdict %s in phase %s; want %s, not aborted", st.Verdict, st.Phase, tc.want)
			}
			verdicts := 0
			for _, e := range events {
				if e.Type == EvVerdict {
					verdicts++
				}
			}
			if verdicts != 1 {
				t.Errorf("%d verdict events; want the one from conclude", verdicts)
			}
		})
	}
}

package gamedays

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/targets/targetstest"
)

// stagedRunbook escalates latency over three hosts: one host at 100ms, two
// at 200ms, all three at 400ms, each stage held 20s. The report's tests
// read it too.
func stagedRunbook(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/staged.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newStaged builds a harness whose p95 is latency(n) with n members
// applied, and expects p95 below limit.
func newStaged(t *testing.T, src, limit string, latency func(active int) float64) *harness {
	t.Helper()
	h := newHarness(t, strings.Replace(src, "LIMIT", limit, 1), 0.1, 0)
	h.q.Value = func(q, _ string, _ time.Time) float64 { return latency(h.exec.Active()) }
	return h
}

// steadyStaged is newStaged on src with p95 at 150ms whatever is applied,
// under a 300ms limit: every stage holds, so only what the test does can
// stop the run.
func steadyStaged(t *testing.T, src string) *harness {
	t.Helper()
	return newStaged(t, src, "300ms", func(int) float64 { return 0.15 })
}

// refutedAtStage2 is newStaged on src with p95 100ms plus 100ms a member
// applied, under a 250ms limit: stage 1 (one member, 200ms) holds and
// stage 2 (two, 300ms) is refuted.
func refutedAtStage2(t *testing.T, src string) *harness {
	t.Helper()
	return newStaged(t, src, "250ms", func(n int) float64 { return 0.1 + 0.1*float64(n) })
}

// onEvent has react see every event the engine emits, after the harness
// records it, as a console would: a test answers the engine there.
func (h *harness) onEvent(react func(Event)) {
	record := h.engine.opts.OnEvent
	h.engine.opts.OnEvent = func(ev Event) {
		record(ev)
		react(ev)
	}
}

func (h *harness) ofType(typ string) []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Event
	for _, e := range h.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// stagesOf lists the stage of every injection the journal shows started.
func (h *harness) intentStages() []int {
	var out []int
	for _, e := range h.ofType(EvAttackIntent) {
		out = append(out, e.Injection.Stage)
	}
	return out
}

func TestStagesAllHold(t *testing.T) {
	h := newStaged(t, stagedRunbook(t), "300ms", func(n int) float64 { return 0.1 + 0.05*float64(n) })
	out := h.run(nil)
	if out.Verdict != VerdictHeld || out.Reason != "held through stage 3 of 3 (all of web at 400ms)" {
		t.Fatalf("verdict %s: %q", out.Verdict, out.Reason)
	}
	if len(out.Stages) != 3 || !out.Stages[2].Held {
		t.Fatalf("stages %+v", out.Stages)
	}
	// 1 at stage 1; at stage 2 the first host again at 200ms and one more;
	// all three at stage 3. Every change of magnitude rolls back first.
	if got := h.intentStages(); !slices.Equal(got, []int{1, 2, 2, 3, 3, 3}) {
		t.Errorf("injections by stage %v; want [1 2 2 3 3 3]", got)
	}
	if h.exec.Injects() != 6 || h.exec.Rollbacks() != 6 || h.exec.Active() != 0 {
		t.Errorf("injects %d rollbacks %d active %d; want 6, 6, 0", h.exec.Injects(), h.exec.Rollbacks(), h.exec.Active())
	}
	checkMagnitudeAndGrowth(h)
	checkStagesNamed(h)
}

// checkMagnitudeAndGrowth: every change of magnitude is journalled as one,
// and each stage's selection contains the one before, ending with all three.
func checkMagnitudeAndGrowth(h *harness) {
	t := h.t
	t.Helper()
	changes := 0
	for _, e := range h.ofType(EvRollbackIntent) {
		if strings.Contains(e.Msg, "changes the magnitude") {
			changes++
		}
	}
	if changes != 3 {
		t.Errorf("%d rollbacks journalled as a change of magnitude; want 3 (1 before stage 2, 2 before stage 3)", changes)
	}
	// Each stage's selection contains the one before.
	var prev []string
	for _, e := range h.ofType(EvSelected) {
		var ids []string
		for _, m := range e.Members {
			ids = append(ids, m.ID)
		}
		for _, id := range prev {
			if !slices.Contains(ids, id) {
				t.Errorf("stage %d selects %v, dropping %s of the stage before", e.Stage, ids, id)
			}
		}
		prev = ids
	}
	if len(prev) != 3 {
		t.Errorf("last stage selects %v; want all three", prev)
	}
}

// checkStagesNamed: the fold, the journal's events, the autopilot's lines
// and the stage results all name the stages.
func checkStagesNamed(h *harness) {
	t := h.t
	t.Helper()
	h.checkJournal()
	events, _, err := ReadJournal(h.journal)
	if err != nil {
		t.Fatal(err)
	}
	st := Fold(events)
	if len(st.Stages) != 3 || !st.Stages[0].Held || !st.Stages[2].Held || st.Stage != 3 {
		t.Errorf("state stages %d, current %d", len(st.Stages), st.Stage)
	}
	if len(st.Injections) != 6 || len(st.Unreverted()) != 0 {
		t.Errorf("state: %d injections, %d unreverted; want 6 (one per stage injection), 0", len(st.Injections), len(st.Unreverted()))
	}
	// Every event from the first stage on names its stage.
	started := false
	for _, e := range events {
		started = started || e.Type == EvStageStart
		if started && e.Stage == 0 {
			t.Errorf("%s event during the stages names no stage", e.Type)
		}
	}
	// The autopilot's JSON lines name the stage of what happens in it.
	var stdout, stderr bytes.Buffer
	log := &Log{Stdout: &stdout, Stderr: &stderr, JSON: true}
	for _, e := range events {
		log.Event(e)
	}
	if !strings.Contains(stdout.String(), `"type":"attack.intent"`) || !regexp.MustCompile(`"type":"attack.intent".*"stage":3`).MatchString(stdout.String()) {
		t.Errorf("no JSON inject line names stage 3:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "stage 2 of 3 begins: 2 of web at 200ms") {
		t.Errorf("log lacks the stage line:\n%s", stderr.String())
	}
	if got := st.Describe(h.ofType(EvStageResult)[1]); !strings.HasPrefix(got, "stage 2 held (2 of web at 200ms): p95") {
		t.Errorf("stage result reads %q", got)
	}
}

func TestStagesRefutedAtStage2(t *testing.T) {
	h := refutedAtStage2(t, stagedRunbook(t))
	out := h.run(nil)
	if out.Verdict != VerdictRefuted {
		t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
	}
	want := "held through stage 1 of 3 (1 of web at 100ms); refuted at stage 2: p95"
	if !strings.HasPrefix(out.Reason, want) {
		t.Errorf("reason %q; want it to start %q", out.Reason, want)
	}
	if got := h.intentStages(); slices.Contains(got, 3) {
		t.Errorf("stage 3 injected after stage 2 was refuted: %v", got)
	}
	if h.exec.Active() != 0 {
		t.Errorf("%v left applied", h.exec.Applied())
	}
	if n := len(h.ofType(EvStageResult)); n != 2 {
		t.Errorf("%d stage results; want 2", n)
	}
	h.checkJournal()
}

func TestStagesGuardrailDuringStage3(t *testing.T) {
	h := newStaged(t, stagedRunbook(t), "1s", func(n int) float64 {
		if n >= 3 {
			return 3 // > 2s: the guardrail fires after 5s
		}
		return 0.1 + 0.05*float64(n)
	})
	out := h.run(nil)
	if out.Verdict != VerdictAborted {
		t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
	}
	for _, want := range []string{"guardrail p95", "during stage 3 of 3 (all of web at 400ms)", "held through stage 2 of 3 (2 of web at 200ms)"} {
		if !strings.Contains(out.Reason, want) {
			t.Errorf("reason %q lacks %q", out.Reason, want)
		}
	}
	if h.exec.Active() != 0 {
		t.Errorf("%v left applied", h.exec.Applied())
	}
	if n := len(h.ofType(EvStageResult)); n != 2 {
		t.Errorf("%d stage results; want 2 (stage 3 was cut short, never judged)", n)
	}
	h.checkJournal()
}

func TestStagesAbortBetweenStages(t *testing.T) {
	h := steadyStaged(t, stagedRunbook(t))
	h.onEvent(func(ev Event) {
		if ev.Type == EvStageResult && ev.Stage == 1 {
			// The facilitator presses abort as stage 1 is judged, before
			// stage 2 injects anything.
			h.engine.Send(Local, Intent{Type: IntentAbort, Source: "key"})
		}
	})
	out := h.run(nil)
	if out.Verdict != VerdictAborted || !strings.Contains(out.Reason, "after stage 1 of 3, before stage 2; held through stage 1 of 3 (1 of web at 100ms)") {
		t.Fatalf("verdict %s: %q", out.Verdict, out.Reason)
	}
	if got := h.intentStages(); !slices.Equal(got, []int{1}) {
		t.Errorf("injections by stage %v; want only stage 1's", got)
	}
	if h.exec.Active() != 0 || h.exec.Rollbacks() != 1 {
		t.Errorf("active %d rollbacks %d; want 0, 1", h.exec.Active(), h.exec.Rollbacks())
	}
	h.checkJournal()
}

// A run killed with -9 during stage 2 leaves the journal as it was after
// stage 2's injects. Recover rolls back every member of stages 1 and 2 and
// touches nothing stage 3 would have added.
func TestStagesKilledDuringStage2ThenRecover(t *testing.T) {
	// Stage 2 widens without a new magnitude, so stage 1's fault stays in
	// place under its own key while stage 2 adds a host.
	src := strings.Replace(stagedRunbook(t), "{count: 2, params: {delay: 200ms}}", "{count: 2}", 1)
	h := steadyStaged(t, src)
	if out := h.run(nil); out.Verdict != VerdictHeld {
		t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
	}
	events, _, err := ReadJournal(h.journal)
	if err != nil {
		t.Fatal(err)
	}
	cut := -1
	for i, e := range events {
		if e.Type == EvAttackResult && e.Injection.Stage == 2 {
			cut = i
		}
	}
	if cut < 0 {
		t.Fatal("no stage 2 inject in the journal")
	}
	key := testKey(t)
	path := filepath.Join(t.TempDir(), "test-run", JournalName)
	sealedCopy(t, path, key, events[:cut+1])

	st := Fold(events[:cut+1])
	var hit []string // what the host has applied at the kill
	stage3 := map[string]bool{"web-1": true, "web-2": true, "web-3": true}
	for _, inj := range st.Unreverted() {
		if inj.Stage > 2 {
			t.Fatalf("stage %d injection before the cut: %+v", inj.Stage, inj)
		}
		hit = append(hit, targetstest.Key(inj))
		delete(stage3, inj.Member.ID)
	}
	if len(hit) != 2 || len(stage3) != 1 {
		t.Fatalf("applied at the kill %v; want stage 1's host and stage 2's, one host left for stage 3", hit)
	}
	for _, inj := range st.Unreverted() {
		if inj.Stage == 1 && inj.Duration != time.Minute {
			t.Errorf("stage 1's injection carries a dead man's switch of %s; want the whole escalation, 1m", inj.Duration)
		}
	}
	exec := targetstest.NewExecutor(hit...)
	rec, err := Recover(context.Background(), path, recoverWith(exec, key))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Reverted) != 2 || len(rec.Failed) != 0 || exec.Active() != 0 {
		t.Fatalf("reverted %d failed %d, still applied %v; want 2, 0, none", len(rec.Reverted), len(rec.Failed), exec.Applied())
	}
	stages := map[int]bool{}
	for _, inj := range exec.RolledBack() {
		stages[inj.Stage] = true
		if stage3[inj.Member.ID] {
			t.Errorf("recover touched %s, which only stage 3 would have hit", inj.Member.ID)
		}
	}
	if !stages[1] || !stages[2] || len(stages) != 2 {
		t.Errorf("rolled back injections of stages %v; want 1 and 2", stages)
	}
	after, _, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if left := Fold(after).Unreverted(); len(left) != 0 {
		t.Errorf("journal after recover still has %d unreverted", len(left))
	}
}

// observe.duration beyond the escalation is watched after the rollback,
// counted from it, so a run refuted early still watches its recovery; a
// runbook that asks for nothing more has no observe phase.
func TestStagesObserveTheRecovery(t *testing.T) {
	src := stagedRunbook(t) + "observe: {duration: 80s}\n" // the escalation plans 60s
	h := refutedAtStage2(t, src)
	out := h.run(nil)
	if out.Verdict != VerdictRefuted || !strings.Contains(out.Reason, "refuted at stage 2") {
		t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
	}
	var observe, conclude, lastRollback time.Time
	for _, e := range h.ofType(EvPhase) {
		switch e.Phase {
		case PhaseObserve.String():
			observe = e.Time
		case PhaseConclude.String():
			conclude = e.Time
		}
	}
	for _, e := range h.ofType(EvRollbackResult) {
		lastRollback = e.Time
	}
	if observe.IsZero() || observe.Before(lastRollback) {
		t.Fatalf("observe phase at %s, last rollback at %s; want it after everything is rolled back", observe, lastRollback)
	}
	if got := conclude.Sub(observe); got < 20*time.Second || got > 21*time.Second {
		t.Errorf("watched the recovery for %s; want the 20s observe asks beyond the escalation", got)
	}

	h = refutedAtStage2(t, stagedRunbook(t))
	h.run(nil)
	for _, e := range h.ofType(EvPhase) {
		if e.Phase == PhaseObserve.String() {
			t.Errorf("an observe phase at %s when observe asks for nothing beyond the escalation", e.Time)
		}
	}
}

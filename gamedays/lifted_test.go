package gamedays

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/targetstest"
)

const stopCondition = "FIS experiment EXP1 is stopped: Experiment stopped by stop condition arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-p95"

// liftAfter has the executor report, held after the first inject's result,
// that the fault of member (any when "") ended on its own: AWS stopped its
// FIS experiment.
func (h *harness) liftAfter(held time.Duration, member string) func(time.Duration) {
	return h.liftFrom("fis", held, member)
}

// liftFrom is liftAfter with the lift's source.
func (h *harness) liftFrom(source string, held time.Duration, member string) func(time.Duration) {
	var at time.Time
	lifted := false
	return func(time.Duration) {
		if lifted {
			return
		}
		h.mu.Lock()
		var inj *targets.Injection
		for _, e := range h.events {
			if e.Type == EvAttackResult && e.Injection != nil && (member == "" || e.Injection.Member.ID == member) {
				inj = e.Injection
			}
		}
		h.mu.Unlock()
		if inj == nil {
			return
		}
		if at.IsZero() {
			at = h.clock.Now()
		}
		if h.clock.Now().Sub(at) >= held {
			lifted = true
			h.engine.Lifted(source, *inj, stopCondition)
		}
	}
}

func TestAFaultEndedEarlyAbortsTheRun(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	out := h.run(h.liftAfter(10*time.Second, ""))
	if out.Verdict != VerdictAborted {
		t.Fatalf("verdict %s (%s), want aborted: the fault was gone for most of the attack window", out.Verdict, out.Reason)
	}
	for _, want := range []string{"fault ended early", "was seen ended 1", "into its 30s", "stopped by stop condition", "cannot be judged"} {
		if !strings.Contains(out.Reason, want) {
			t.Errorf("reason %q does not say %q", out.Reason, want)
		}
	}
	h.endedEarly(10 * time.Second)
	if h.exec.Active() != 0 || h.exec.Rollbacks() != 1 {
		t.Errorf("after the abort: %d applied, %d rollbacks; want 0 and 1 (the rollback confirms what AWS ended)", h.exec.Active(), h.exec.Rollbacks())
	}
	h.checkJournal()
}

func TestAFaultEndingAtItsDurationRanItsCourse(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	out := h.run(h.liftAfter(29*time.Second, ""))
	if out.Verdict != VerdictHeld {
		t.Fatalf("verdict %s (%s), want held: the fault ended at its duration", out.Verdict, out.Reason)
	}
	if !h.has(EvNote, "slow on web-") || !h.has(EvNote, stopCondition) {
		t.Error("the end was not journalled as a note")
	}
	if slices.Contains(h.types(), EvFaultEnded) {
		t.Error("a fault that ran its course was journalled as ended early")
	}
	h.checkJournal()
}

// A fault removed by hand so late that the check saw it gone within its
// last second ran its course as far as the check can tell; its rollback
// finding it gone is still said in the verdict.
func TestAFaultSeenGoneAtItsEndIsStillSaidGone(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	var landed time.Time
	lifted := false
	out := h.run(func(time.Duration) {
		var inj *targets.Injection
		for _, e := range h.snapshot() {
			if e.Type == EvAttackResult && e.Injection != nil {
				inj = e.Injection
			}
		}
		if inj == nil || lifted {
			return
		}
		if landed.IsZero() {
			landed = h.clock.Now()
		}
		if h.clock.Now().Sub(landed) >= 29*time.Second {
			lifted = true
			h.exec.Remove(inj.Attack + "@" + inj.Member.ID)
			h.engine.Lifted(SourceFaultCheck, *inj, "the fault was no longer in place")
		}
	})
	if out.Verdict != VerdictHeld || !strings.Contains(out.Reason, "but the fault was no longer in place when its rollback came on 1") {
		t.Errorf("verdict %s (%s); want held, saying the rollback found the fault gone", out.Verdict, out.Reason)
	}
	if slices.Contains(h.types(), EvFaultEnded) {
		t.Error("a fault seen gone at its end was journalled as ended early")
	}
}

func TestContinueCountsAFaultEndedEarlyAsNotLanded(t *testing.T) {
	src := allHosts(testRunbook) + "abort: {on_inject_failure: continue}\n"
	h := newHarness(t, src, 0.1, 0.05)
	out := h.run(h.liftAfter(5*time.Second, "web-2"))
	if out.Verdict != VerdictHeld {
		t.Fatalf("verdict %s (%s), want held on the two faults that held", out.Verdict, out.Reason)
	}
	if !strings.Contains(out.Reason, "only 2 of 3 injection(s) applied") || !strings.Contains(out.Reason, "slow on web-2 was seen ended") {
		t.Errorf("reason %q does not say that web-2's fault ended early and is not counted", out.Reason)
	}
	h.endedEarly(5 * time.Second)
	h.checkJournal()
}

// endedEarly checks the journal: the fault's end is a fault.ended in the
// executor's words, and the state folded up to it shows that injection
// ENDED EARLY (no longer ACTIVE, its rollback still owed) with its real
// window closed about held after it landed.
func (h *harness) endedEarly(held time.Duration) {
	h.t.Helper()
	events, _, err := ReadJournal(h.journal)
	if err != nil {
		h.t.Fatal(err)
	}
	st := NewState(nil)
	for _, ev := range events {
		st.Apply(ev)
		if ev.Type != EvFaultEnded {
			continue
		}
		if !strings.Contains(ev.Msg, stopCondition) || !strings.Contains(ev.Msg, "was seen ended") {
			h.t.Errorf("fault.ended says %q; want how long it held and the executor's own words", ev.Msg)
		}
		is, ok := st.Injection(KeyOf(*ev.Injection))
		if !ok || is.Status != StatusEnded || !is.Status.MayBeApplied() {
			h.t.Fatalf("state after fault.ended: %+v; want ENDED EARLY, its rollback owed", is)
		}
		if from, to, open := is.Window(); open || to.Sub(from) < held || to.Sub(from) > held+2*time.Second {
			h.t.Errorf("the fault's window is %s to %s (open %v); want it closed about %s after it landed", from, to, open, held)
		}
		if line := st.Describe(ev); !strings.HasPrefix(line, "FAULT ENDED EARLY: slow (network-latency) on web-") {
			h.t.Errorf("the timeline reads %q", line)
		}
		return
	}
	h.t.Fatal("no fault.ended in the journal")
}

// liftingExec reports the end of each fault before its inject returns, as
// a watcher may when AWS ends an experiment at once.
type liftingExec struct {
	*targetstest.Executor
	engine func() *Engine
}

func (l liftingExec) Inject(ctx context.Context, inj *targets.Injection) (targets.Result, error) {
	res, err := l.Executor.Inject(ctx, inj)
	l.engine().Lifted("fis", *inj, "FIS experiment EXP1 is failed: the action failed")
	return res, err
}

func TestAnEndReportedBeforeTheInjectReturnsIsJournalledAfterIt(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	h.engine.opts.Executors["ssh"] = liftingExec{h.exec, func() *Engine { return h.engine }}
	out := h.run(nil)
	if out.Verdict != VerdictAborted || !strings.Contains(out.Reason, "was seen ended 0s into its 30s: FIS experiment EXP1 is failed") {
		t.Fatalf("verdict %s (%s), want aborted: the fault ended as it landed", out.Verdict, out.Reason)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	result, note := -1, -1
	for i, e := range h.events {
		switch {
		case e.Type == EvAttackResult && result < 0:
			result = i
		case e.Type == EvFaultEnded && strings.Contains(e.Msg, "the action failed") && note < 0:
			note = i
		}
	}
	if result < 0 || note < result {
		t.Errorf("attack.result at %d, the end's note at %d: the end must follow the result it ends", result, note)
	}
}

// A fault that something other than gameday removed during the attack is
// found gone by its rollback: the verdict stands on what was measured, but
// says that fault's window was not the one planned, and the timeline and
// the state say it too. An aborted run's rollbacks make no such claim.
func TestAFaultFoundGoneAtItsRollbackIsSaid(t *testing.T) {
	h := newHarness(t, allHosts(testRunbook), 0.1, 0.05)
	removed := false
	out := h.run(func(time.Duration) {
		if !removed && h.exec.Active() == 3 {
			removed = true
			h.exec.Remove("slow@web-2")
		}
	})
	if out.Verdict != VerdictHeld {
		t.Fatalf("verdict %s (%s), want held on what was measured", out.Verdict, out.Reason)
	}
	if want := "but the fault was no longer in place when its rollback came on 1: slow on web-2 (something other than gameday ended it"; !strings.Contains(out.Reason, want) {
		t.Errorf("reason %q does not say %q", out.Reason, want)
	}
	if !h.has(EvVerdict, "no longer in place") {
		t.Error("the journalled verdict does not say it")
	}
	events, _, err := ReadJournal(h.journal)
	if err != nil {
		t.Fatal(err)
	}
	st := NewState(nil)
	said := false
	for _, ev := range events {
		st.Apply(ev)
		said = said || ev.Type == EvRollbackResult && strings.Contains(st.Describe(ev), "slow (network-latency) on web-2; the fault was already gone")
	}
	if !said {
		t.Error("the timeline does not say the rollback found web-2's fault gone")
	}
	if is, ok := st.Injection(Key{Attack: "slow", Target: "web", Member: "web-2"}); !ok || !is.Gone || is.Status != StatusReverted {
		t.Errorf("state of web-2: %+v", is)
	}
	h.checkJournal()

	h = newHarness(t, allHosts(testRunbook), 0.1, 0.05)
	removed = false
	out = h.run(func(time.Duration) {
		if !removed && h.exec.Active() == 3 {
			removed = true
			h.exec.Remove("slow@web-2")
			h.engine.Send(Local, Intent{Type: IntentAbort, Source: "key"})
		}
	})
	if out.Verdict != VerdictAborted || strings.Contains(out.Reason, "no longer in place") {
		t.Errorf("aborted run: %s (%s); want aborted, without a claim on the window", out.Verdict, out.Reason)
	}
	events, _, err = ReadJournal(h.journal)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Type == EvRollbackResult && ev.Result != nil && ev.Result.Gone {
			t.Errorf("the abort's rollback of %s journalled the fault as gone", KeyOf(*ev.Injection))
		}
	}
}

// In a drill, a fault the run's check found removed is what responders
// are there to do: it is journalled as ended early and timed as the
// drill's "seen gone", and the run goes on to its rollback instead of
// aborting. An end AWS decided (a stop condition) still stops a drill.
func TestADrillGoesOnWhenAFaultIsRemoved(t *testing.T) {
	src := testRunbook + "drill: {allowed: true}\n"
	h := newHarness(t, src, 0.1, 0.05)
	h.engine.opts.Drill = true
	if out := h.run(h.liftFrom("fis", 10*time.Second, "")); out.Verdict != VerdictAborted || !strings.Contains(out.Reason, "fault ended early") {
		t.Errorf("a stop condition in a drill: %s (%s), want aborted", out.Verdict, out.Reason)
	}
	if events, _, err := ReadJournal(h.journal); err != nil {
		t.Fatal(err)
	} else if d, _ := Drill(events); !d.Gone.IsZero() {
		t.Errorf("AWS's safety stop was timed as the fault seen gone, the responders' mitigation: %+v", d)
	}
	h = newHarness(t, src, 0.1, 0.05)
	h.engine.opts.Drill = true
	out := h.run(h.liftFrom(SourceFaultCheck, 10*time.Second, ""))
	if out.Verdict == VerdictAborted {
		t.Fatalf("verdict %s (%s): a drill's responders removing the fault aborted it", out.Verdict, out.Reason)
	}
	if want := "; but the fault ended before its time on 1: slow on web-"; !strings.Contains(out.Reason, want) || !strings.Contains(out.Reason, "; so that fault was not there for part of the window") {
		t.Errorf("reason %q does not say which fault ended before its time", out.Reason)
	}
	if !h.has(EvNote, "in a drill the run goes on") {
		t.Error("the journal does not say why the run went on")
	}
	h.endedEarly(10 * time.Second)
	if h.exec.Rollbacks() != 1 || h.exec.Active() != 0 {
		t.Errorf("%d rollbacks, %d left applied; want the planned rollback, nothing left", h.exec.Rollbacks(), h.exec.Active())
	}
	events, _, err := ReadJournal(h.journal)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := Drill(events)
	if !ok || !d.Drill || d.GoneAfter < 10*time.Second || d.GoneAfter > 12*time.Second || !strings.HasPrefix(d.GoneWhat, "slow on web-") {
		t.Errorf("drill times %+v; want the fault seen gone about 10s after it landed", d)
	}
	h.checkJournal()
}

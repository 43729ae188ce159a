package gamedays

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// confirming wires h to ask before each escalation, waiting at most wait,
// and to answer each ask with answer (nothing when it returns false).
func confirming(h *harness, wait time.Duration, answer func(ev Event) bool) {
	h.engine.askEach, h.engine.opts.StageConfirmWait = true, wait
	h.onEvent(func(ev Event) {
		if ev.Type == EvStageAsk && answer(ev) {
			h.engine.Send(Local, Intent{Type: IntentConfirm, Source: "key", Author: "fac"})
		}
	})
}

func TestStagesConfirmEach(t *testing.T) {
	h := newStaged(t, stagedRunbook(t), "300ms", func(n int) float64 { return 0.1 + 0.05*float64(n) })
	var asked []int
	var activeAtAsk []int
	confirming(h, 30*time.Second, func(ev Event) bool {
		asked = append(asked, ev.Stage)
		activeAtAsk = append(activeAtAsk, h.exec.Active())
		return true
	})
	out := h.run(nil)
	if out.Verdict != VerdictHeld || len(out.Stages) != 3 {
		t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
	}
	// Asked before stages 2 and 3, never before the first: the plan's
	// confirmation covers it. The stage before stays in place meanwhile.
	if !slices.Equal(asked, []int{2, 3}) || !slices.Equal(activeAtAsk, []int{1, 2}) {
		t.Errorf("asked before stages %v with %v applied; want [2 3] with [1 2]", asked, activeAtAsk)
	}
	if n := len(h.ofType(EvStageConfirm)); n != 2 {
		t.Errorf("%d confirmations journalled; want 2", n)
	}
	// Each switch covers the waits that can come before its fault ends:
	// stage 1's three 20s holds and two waits, stage 3's hold and none.
	for _, e := range h.ofType(EvAttackIntent) {
		want := map[int]time.Duration{1: 120 * time.Second, 2: 70 * time.Second, 3: 20 * time.Second}[e.Injection.Stage]
		if e.Injection.Duration != want {
			t.Errorf("stage %d injection lasts %s; want %s", e.Injection.Stage, e.Injection.Duration, want)
		}
	}
	st := Fold(h.ofType(EvConfirmEach))
	if !st.ConfirmEach {
		t.Error("the journal does not say each stage is confirmed")
	}
	h.checkJournal()
}

func TestStagesNotConfirmedInTime(t *testing.T) {
	h := steadyStaged(t, stagedRunbook(t))
	confirming(h, 30*time.Second, func(Event) bool { return false })
	out := h.run(nil)
	if out.Verdict != VerdictAborted || !strings.Contains(out.Reason, "stage 2 was not confirmed within 30s") || !strings.Contains(out.Reason, "held through stage 1 of 3") {
		t.Fatalf("verdict %s: %q", out.Verdict, out.Reason)
	}
	if got := h.intentStages(); !slices.Equal(got, []int{1}) {
		t.Errorf("injections by stage %v; want only stage 1's", got)
	}
	if h.exec.Active() != 0 {
		t.Errorf("%v left applied", h.exec.Applied())
	}
	var asked, ended time.Time
	for _, e := range h.ofType(EvStageAsk) {
		asked = e.Time
	}
	for _, e := range h.ofType(EvStageConfirm) {
		if e.OK == nil || *e.OK {
			t.Errorf("a confirmation journalled as given: %+v", e)
		}
		ended = e.Time
	}
	if got := ended.Sub(asked); got < 30*time.Second || got > 31*time.Second {
		t.Errorf("waited %s; want the 30s bound", got)
	}
	h.checkJournal()
}

// The switch can be turned off at any time, and on before the stages
// start; turned on during them it is refused, since the switches armed so
// far do not cover a wait.
func TestStagesConfirmEachSwitch(t *testing.T) {
	h := steadyStaged(t, stagedRunbook(t))
	h.onEvent(func(ev Event) {
		if ev.Type == EvStageStart && ev.Stage == 1 {
			h.engine.Send(Local, Intent{Type: IntentConfirmEach, Text: "on", Source: "key"})
		}
	})
	out := h.run(nil)
	if out.Verdict != VerdictHeld || len(h.ofType(EvStageAsk)) != 0 || len(h.ofType(EvConfirmEach)) != 0 {
		t.Fatalf("verdict %s, %d asks, %d switches; want held, none, none", out.Verdict, len(h.ofType(EvStageAsk)), len(h.ofType(EvConfirmEach)))
	}
	refused := false
	for _, e := range h.ofType(EvNote) {
		refused = refused || strings.Contains(e.Msg, "cannot be turned on once the stages have started")
	}
	if !refused {
		t.Error("turning it on during the stages was not refused with a reason")
	}

	h = steadyStaged(t, stagedRunbook(t))
	confirming(h, 30*time.Second, func(ev Event) bool {
		// Turned off while stage 2 waits: stage 2 still needs its
		// confirmation, stage 3 is not asked for.
		h.engine.Send(Local, Intent{Type: IntentConfirmEach, Text: "off", Source: "key"})
		return true
	})
	if out := h.run(nil); out.Verdict != VerdictHeld {
		t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
	}
	if n := len(h.ofType(EvStageAsk)); n != 1 {
		t.Errorf("%d asks; want 1 (before stage 2 only)", n)
	}
	if err := Permit(Actor{Role: "observer", Name: "obs"}, Intent{Type: IntentConfirmEach, Text: "off"}); err == nil {
		t.Error("an observer may switch confirming each stage")
	}
}

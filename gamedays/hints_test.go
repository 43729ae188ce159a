package gamedays

import (
	"strings"
	"testing"
	"time"
)

// Hints with an after: are released that long after the first fault
// landed, on the engine's clock; not twice when the facilitator released one
// by key; and not after the mitigation.
func TestHintScheduleOnTheEngineClock(t *testing.T) {
	src := strings.Replace(testRunbook, "observe: {duration: 40s}", "observe: {duration: 60s}", 1) + `drill:
  allowed: true
  hints:
    - {after: 10s, text: first}
    - {after: 20s, text: by key already}
    - {text: key only}
    - {after: 30s, text: "never: mitigated first"}
`
	h := newHarness(t, src, 0.1, 0.05)
	h.engine.opts.Drill = true
	var injected time.Time
	byKey, mitigated := false, false
	h.run(func(time.Duration) {
		for _, ev := range h.snapshot() {
			if ev.Type == EvAttackResult && injected.IsZero() {
				injected = ev.Time
			}
		}
		if injected.IsZero() {
			return
		}
		since := h.clock.Now().Sub(injected)
		if !byKey && since >= 5*time.Second {
			byKey = true
			h.engine.Send(Local, Intent{Type: IntentNote, Kind: NoteHint, Text: "by key already"})
		}
		if !mitigated && since >= 25*time.Second {
			mitigated = true
			h.engine.Send(Actor{Name: "rita", Role: "responder"}, Intent{Type: IntentNote, Kind: NoteMitigated, Text: "took web-2 out"})
		}
	})
	released := map[string][]time.Duration{}
	for _, ev := range h.snapshot() {
		if ev.Type == EvNote && ev.Kind == NoteHint {
			released[ev.Msg] = append(released[ev.Msg], ev.Time.Sub(injected))
		}
	}
	if got := released["first"]; len(got) != 1 || got[0] != 10*time.Second {
		t.Errorf("first released at %v after the inject, want once at 10s", got)
	}
	if got := released["by key already"]; len(got) != 1 {
		t.Errorf("a hint released by key was released %d times", len(got))
	}
	if got := released["never: mitigated first"]; len(got) != 0 || released["key only"] != nil {
		t.Errorf("released after the mitigation or without an after: %v", released)
	}
}

func (h *harness) snapshot() []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Event(nil), h.events...)
}

// The same hint pressed twice, or pressed as the schedule releases it, is
// released once: whoever claims it first releases it.
func TestHintReleasedOnce(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	e := h.engine
	e.Send(Local, Intent{Type: IntentNote, Kind: NoteHint, Text: "look at web-2"})
	e.Send(Local, Intent{Type: IntentNote, Kind: NoteHint, Text: "look at web-2"})
	if e.claimHint("look at web-2") {
		t.Error("the schedule could release a hint already pressed by key")
	}
	e.Flush()
	if !h.has(EvNote, "hint already released: look at web-2") {
		t.Error("the second press is not said to be a repeat")
	}
	if n := len(e.intents); n != 1 {
		t.Errorf("%d hint intents queued, want 1", n)
	}
}

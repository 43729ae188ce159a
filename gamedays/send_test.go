package gamedays

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// gatedRecorder journals through a real Journal, but while closed it holds
// every synced append (as a disk whose fsync hangs would), and it says
// whether the abort was journalled.
type gatedRecorder struct {
	*Journal
	mu      sync.Mutex
	gate    chan struct{} // nil: open
	aborted bool
}

func (g *gatedRecorder) Append(ev Event) (Event, error) {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil && ev.MustSync() {
		<-gate
	}
	out, err := g.Journal.Append(ev)
	if ev.Type == EvAbort {
		g.mu.Lock()
		g.aborted = true
		g.mu.Unlock()
	}
	return out, err
}

func (g *gatedRecorder) close() {
	g.mu.Lock()
	g.gate = make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedRecorder) open() {
	g.mu.Lock()
	close(g.gate)
	g.gate = nil
	g.mu.Unlock()
}

func (g *gatedRecorder) abortJournalled() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.aborted
}

// TestSendNeverWaitsOnTheDisk: with the journal's synced writes held, an
// abort and a second abort are taken at once (Send only hands off); the
// abort is still journalled before the first rollback call.
func TestSendNeverWaitsOnTheDisk(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	rec := &gatedRecorder{Journal: h.engine.opts.Journal.(*Journal)}
	h.engine.opts.Journal = rec
	var beforeAbort []bool
	h.exec.OnRollback = func(targets.Injection) { beforeAbort = append(beforeAbort, rec.abortJournalled()) }
	sent := false
	out := h.run(func(elapsed time.Duration) {
		if sent || h.engine.Phase() != PhaseObserve {
			return
		}
		sent = true
		rec.close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.engine.Send(Local, Intent{Type: IntentAbort, Source: "key", Author: "Ana"})
			h.engine.Send(Local, Intent{Type: IntentAbort, Source: "key", Author: "Ana"})
			h.engine.Send(Actor{Name: "olga", Role: runbook.RoleObserver}, Intent{Type: IntentConfirm})
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Send waited on a journal whose synced writes are held")
		}
		rec.open()
	})
	if !sent || out.Verdict != VerdictAborted {
		t.Fatalf("abort sent %v, verdict %s (%s)", sent, out.Verdict, out.Reason)
	}
	if len(beforeAbort) == 0 || !beforeAbort[0] {
		t.Errorf("rollback calls saw the abort journalled: %v; want it journalled before the first", beforeAbort)
	}
	h.engine.Flush()
	if !h.has(EvAbort, "abort requested again") || !h.has(EvRefused, "olga (observer) asked to confirm the blast radius: refused") {
		t.Error("the second abort or the refusal was not journalled")
	}
}

// TestPolicyIsTheEngines: intents sent straight to the engine, with no
// console in between, are checked against the sender's role; a refusal is
// an error and a journal line, and changes nothing.
func TestPolicyIsTheEngines(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	observer := Actor{Name: "olga", Role: runbook.RoleObserver}
	scribe := Actor{Name: "sam", Role: runbook.RoleScribe}
	officer := Actor{Name: "dave", Role: runbook.RoleObserver, Abort: true}
	var refusals []error
	done := false
	out := h.run(func(elapsed time.Duration) {
		if done || h.engine.Phase() != PhaseObserve {
			return
		}
		done = true
		for _, i := range []Intent{{Type: IntentAbort, Source: "key"}, {Type: IntentConfirm}, {Type: IntentNext}, {Type: IntentNote, Kind: NoteHint, Text: "look at web-2"}} {
			refusals = append(refusals, h.engine.Send(observer, i))
		}
		if err := h.engine.Send(scribe, Intent{Type: IntentNote, Kind: "note", Text: "web-2 slow in traces"}); err != nil {
			t.Errorf("a scribe's note refused: %v", err)
		}
	})
	if out.Verdict != VerdictHeld {
		t.Fatalf("verdict %s (%s): an observer's abort must change nothing", out.Verdict, out.Reason)
	}
	for i, err := range refusals {
		if err == nil {
			t.Errorf("observer intent %d accepted", i)
		}
	}
	if !strings.Contains(refusals[0].Error(), "only the facilitator and the runbook's safety officers can abort") {
		t.Errorf("refusal %q does not say who can abort", refusals[0])
	}
	h.engine.Flush()
	n := 0
	for _, ev := range h.events {
		if ev.Type == EvRefused && ev.Author == "olga" {
			n++
		}
	}
	if n != 4 || !h.has(EvNote, "web-2 slow in traces") {
		t.Errorf("%d refusals journalled, want 4, and the scribe's note", n)
	}
	// A safety officer who is not the facilitator may abort.
	if err := Permit(officer, Intent{Type: IntentAbort}); err != nil {
		t.Errorf("a safety officer's abort refused: %v", err)
	}
}

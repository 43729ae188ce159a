package gamedays

import (
	"context"
	"fmt"
	"time"
)

// Asking before each escalation: with confirm-each-stage on, the engine
// stops after a stage holds and waits for the facilitator to confirm the
// next one, its faults still in place and the guardrails still watching.
// The wait is bounded, and every injection's dead man's switch is made long
// enough to cover the waits ahead of it before the first stage injects, so
// a console lost while it asks still leaves clean hosts on time.

// Events of the confirmations.
const (
	EvStageAsk     = "stage.ask"     // the engine waits for stage N to be confirmed
	EvStageConfirm = "stage.confirm" // it was, or (OK false) it was not in time
	EvConfirmEach  = "stage.confirm_each"
)

// DefaultStageConfirmWait is how long the engine waits for an escalation
// to be confirmed when Options.StageConfirmWait is not set.
const DefaultStageConfirmWait = 2 * time.Minute

// confirmEach reports whether the engine asks before each escalation.
func (e *Engine) confirmEach() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.askEach
}

// stageWait is how long one escalation may wait to be confirmed.
func (e *Engine) stageWait() time.Duration {
	if e.opts.StageConfirmWait > 0 {
		return e.opts.StageConfirmWait
	}
	return DefaultStageConfirmWait
}

// setConfirmEach takes the console's switch. Turning it on once the stages
// have started is refused: the switches armed so far do not cover a wait.
func (e *Engine) setConfirmEach(i Intent) {
	on := i.Text != "off"
	e.mu.Lock()
	started, was := e.start, e.askEach
	if on && !started.IsZero() && !e.askReady {
		e.mu.Unlock()
		e.emit(Event{Type: EvNote, Source: i.Source, Author: i.Author,
			Msg: "confirm each stage cannot be turned on once the stages have started: the dead man's switches armed so far do not cover a wait; it can be turned on before the plan is confirmed"})
		return
	}
	e.askEach = on
	e.mu.Unlock()
	if on != was {
		e.emit(Event{Type: EvConfirmEach, OK: &on, Source: i.Source, Author: i.Author})
	}
}

// coverWaitsLocked lengthens each injection of a staged plan by the confirmation
// waits that can come before its fault is meant to end, so that its dead
// man's switch does not fire while the room decides. It runs once, when
// the stages start, under e.mu.
func (e *Engine) coverWaitsLocked() {
	if !e.askEach {
		return
	}
	e.askReady = true
	n := len(e.stages)
	for _, st := range e.stages {
		for _, p := range st.inject {
			p.inj.Duration += time.Duration(n-st.n) * e.stageWait()
		}
	}
}

// confirmStage waits for stage st to be confirmed, when asked to: the
// faults of the stage before stay in place and the guardrails watch. No
// confirmation in time aborts the run (everything rolled back), as the
// abort key would.
func (e *Engine) confirmStage(ctx context.Context, st *stageStep) error {
	if !e.confirmEach() {
		return nil
	}
	wait := e.stageWait()
	deadline := e.opts.Clock.Now().Add(wait)
	e.emit(Event{Type: EvStageAsk, Stage: st.n, Msg: st.plan.Words, StagePlan: &st.plan,
		Until: deadline})
	for {
		if i, took := e.drainNotes(); took {
			if done, err := e.takeStageIntent(i, st); done {
				return err
			}
		}
		if e.aborted() {
			return errAborted
		}
		now := e.opts.Clock.Now()
		if !now.Before(deadline) {
			no := false
			why := fmt.Sprintf("stage %d was not confirmed within %s", st.n, FormatDuration(wait))
			e.emit(Event{Type: EvStageConfirm, Stage: st.n, OK: &no, Msg: why})
			e.deliver(Intent{Type: IntentAbort, Source: "not confirmed", Text: why})
			return errAborted
		}
		e.pollMetrics(ctx)
		e.flushSamples(false)
		if reason := e.guardrails(); reason != "" {
			e.deliver(Intent{Type: IntentAbort, Source: "guardrail", Text: reason})
			return errAborted
		}
		select {
		case <-ctx.Done():
			return errAborted
		case <-e.abortCh:
			return errAborted
		case <-e.opts.Clock.After(min(e.rb.Metrics.Poll, deadline.Sub(now))):
		case i := <-e.intents:
			if i.Type == IntentNote || i.Type == IntentConfirmEach {
				e.aside(i)
				continue
			}
			if done, err := e.takeStageIntent(i, st); done {
				return err
			}
		}
	}
}

// takeStageIntent acts on an intent that came while stage st waits to be
// confirmed; done says the wait is over.
func (e *Engine) takeStageIntent(i Intent, st *stageStep) (bool, error) {
	if i.Type != IntentConfirm {
		e.emit(Event{Type: EvNote, Source: i.Source, Msg: fmt.Sprintf("ignored: stage %d waits to be confirmed", st.n)})
		return false, nil
	}
	yes := true
	e.emit(Event{Type: EvStageConfirm, Stage: st.n, OK: &yes, Author: i.Author, Source: i.Source, Msg: st.plan.Words})
	return true, nil
}

// aside handles the intents taken whenever they arrive: notes and the
// confirm-each switch. It says whether i was one.
func (e *Engine) aside(i Intent) bool {
	switch i.Type {
	case IntentNote:
		e.note(i)
	case IntentConfirmEach:
		e.setConfirmEach(i)
	default:
		return false
	}
	return true
}

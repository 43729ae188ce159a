package gamedays

import (
	"fmt"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// SourceFaultCheck is the source of a lift that a run's own check found:
// the fault was no longer in place on its host, so something other than
// gameday removed it (a person, a remediation job). An executor's other
// sources are AWS's own ends ("fis").
const SourceFaultCheck = "watch"

// liftSlack is how close to its end a fault may end on its own and still
// count as having run its course: an executor reads the fault's state at
// intervals and the two clocks round differently.
const liftSlack = time.Second

// Lifted is an executor telling the engine that a fault it watches ended
// on its own, before any rollback: AWS stopped an FIS experiment (its stop
// condition fired, an action failed) or it completed. source names the
// executor ("fis"), msg says what happened, in the executor's words.
//
// A fault that ends at its duration has run its course. One that ends
// before it no longer tests the hypothesis over the attack window: a
// verdict on it would be a verdict on a fault that was not there, so the
// run stops and rolls back the rest (or, with abort.on_inject_failure:
// continue, counts it as not landed; in a drill, where removing it is the
// responders' job, a fault the run's check found gone lets the run go on).
// Lifted never blocks on the disk.
func (e *Engine) Lifted(source string, inj targets.Injection, msg string) {
	key := KeyOf(inj)
	e.mu.Lock()
	var p *targets.Injection
	for _, a := range e.applied {
		if KeyOf(*a) == key {
			p = a
		}
	}
	if p == nil || e.done[p] {
		e.mu.Unlock()
		e.later(Event{Type: EvNote, Source: source, Author: source, Msg: key.String() + ": " + msg})
		return
	}
	if e.lifted == nil {
		e.lifted = map[*targets.Injection]lift{}
	}
	l := lift{source: source, msg: msg, at: e.opts.Clock.Now()}
	e.lifted[p] = l
	_, returned := e.results[p]
	e.mu.Unlock()
	if returned {
		e.sideWG.Add(1) // Run flushes it before its end is journalled
		go func() {
			defer e.sideWG.Done()
			e.judgeLift(p, l)
		}()
	}
	// Otherwise the inject has not returned yet: it judges the lift once
	// its own result is journalled, so the journal reads in order.
}

// lift is what an executor said when a fault ended on its own.
type lift struct {
	source, msg string
	at          time.Time
}

// liftOf is p's lift, if an executor reported one.
func (e *Engine) liftOf(p *targets.Injection) (lift, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, ok := e.lifted[p]
	return l, ok
}

// judgeLift journals a fault that ended on its own and, when it ended
// before its time while the run still counts on it, stops the run.
func (e *Engine) judgeLift(p *targets.Injection, l lift) {
	e.mu.Lock()
	since, ok := e.since[p]
	done := e.done[p]
	phase := e.phase
	e.mu.Unlock()
	held := l.at.Sub(since)
	if !ok || done || held >= p.Duration-liftSlack {
		// It ran its course (or was rolled back already); the attack's
		// own rollback confirms it.
		e.emit(Event{Type: EvNote, Source: l.source, Author: l.source, Msg: KeyOf(*p).String() + ": " + l.msg})
		return
	}
	ended := fmt.Sprintf("was seen ended %s into its %s: %s", FormatDuration(held.Round(time.Second)), FormatDuration(p.Duration), l.msg)
	e.mu.Lock()
	if e.endedEarly == nil {
		e.endedEarly = map[*targets.Injection]bool{}
	}
	e.endedEarly[p] = true
	e.mu.Unlock()
	e.emit(Event{Type: EvFaultEnded, Injection: p, Source: l.source, Author: l.source, Msg: ended})
	if e.aborted() || (phase != PhaseRun && phase != PhaseObserve) {
		return
	}
	why := p.Attack + " on " + p.Member.ID + " " + ended
	if e.opts.Drill && l.source == SourceFaultCheck {
		// Removing the fault is what a drill's responders are there to
		// do: the run goes on with the rest and rolls this one back at
		// its time; the drill's times say when it was seen gone. An end
		// AWS decided (a stop condition's alarm) is a safety stop, in a
		// drill too.
		e.mu.Lock()
		e.shortened = append(e.shortened, why)
		e.mu.Unlock()
		e.emit(Event{Type: EvNote, Source: l.source, Msg: why + "; in a drill the run goes on: this may be the responders' mitigation"})
		return
	}
	if e.rb.Abort.OnInjectFailure == runbook.OnInjectFailureContinue {
		e.mu.Lock()
		e.landed--
		e.failures = append(e.failures, why)
		e.mu.Unlock()
		e.emit(Event{Type: EvNote, Source: l.source, Msg: why + "; the run goes on (abort.on_inject_failure: continue) and the verdict does not count it"})
		return
	}
	e.deliver(Intent{Type: IntentAbort, Source: "fault ended early", Text: why + "; the hypothesis cannot be judged over the attack window"})
}

package gamedays

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Log writes the autopilot's view of the events: one human line each on
// Stderr, a JSON line each on Stdout with JSON, and with DryRun the plan of
// every injection on Stdout. Its words are the state's Describe, the same
// the console and the report use.
type Log struct {
	Stdout, Stderr io.Writer
	JSON, DryRun   bool
	Journal        string // named on the first line
	// Verbose says every member's preflight, inject and rollback on a line
	// of its own; otherwise a run of more than a few members says each
	// step of an attack once, its failures grouped by reason with the
	// members named.
	Verbose bool

	mu    sync.Mutex
	state *State
	// A failing metrics server repeats one error every poll: the repeats
	// are counted and said once when the error changes or clears.
	lastErr  string
	repeated int
	fold     folder
}

// Event logs one event; it is safe from any goroutine.
func (l *Log) Event(ev Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == nil {
		l.state = NewState(nil)
	}
	l.state.Apply(ev)
	if ev.Type == EvLive {
		return // the journal's decisions are logged; the live judgement is for the console
	}
	if l.JSON {
		b, err := json.Marshal(ev)
		if err == nil {
			l.Stdout.Write(append(b, '\n'))
		}
	}
	if ev.Type == EvSelected {
		l.fold.count(ev)
	}
	if !l.Verbose && l.fold.total > foldAbove && isMemberStep(ev.Type) && ev.Injection != nil {
		if s := l.fold.add(ev); s != nil {
			l.folded(s)
		}
		l.plan(ev)
		return
	}
	if ev.Type != EvSample && ev.Type != EvMetricsError {
		for _, s := range l.fold.flush() {
			l.folded(s)
		}
	}
	if l.repeatedError(ev) {
		return
	}
	text := l.state.Describe(ev)
	if ev.Type == EvRunStart {
		text += ", journal " + l.Journal
	}
	l.line(ev, text)
	if ev.Type == EvProbe && len(ev.Problems) > 0 {
		l.problems(ev)
	}
	l.plan(ev)
}

// repeatedError counts a metrics error that repeats the one before
// (reporting true: it is not said again), and says how often it repeated
// once another event comes.
func (l *Log) repeatedError(ev Event) bool {
	if ev.Type == EvMetricsError && ev.Msg == l.lastErr {
		l.repeated++
		return true
	}
	if l.repeated > 0 && ev.Type != EvSample {
		l.line(ev, fmt.Sprintf("(the metrics error above repeated %d more time(s))", l.repeated))
		l.repeated = 0
	}
	if ev.Type == EvMetricsError {
		l.lastErr = ev.Msg
	} else if ev.Type != EvSample {
		l.lastErr = ""
	}
	return false
}

// problems says a probe's problems under its line: each member's with
// Verbose, otherwise grouped by reason.
func (l *Log) problems(ev Event) {
	details := ev.Problems
	if !l.Verbose {
		fs := make([]MemberFailure, len(ev.Problems))
		for i, p := range ev.Problems {
			fs[i] = MemberFailureOf(p)
		}
		details = Details(GroupFailures(fs))
	}
	for _, d := range details {
		l.line(ev, "    "+d)
	}
}

// plan prints a dry run's commands for one injection on stdout.
func (l *Log) plan(ev Event) {
	if l.DryRun && !l.JSON && ev.Type == EvPreflight && ev.Injection != nil {
		fmt.Fprintf(l.Stdout, "# %s (%s) on %s %s\n", ev.Injection.Attack, ev.Injection.Kind, ev.Injection.Member.Target, MemberWhere(ev.Injection.Member))
		for _, p := range ev.Plan {
			fmt.Fprintf(l.Stdout, "%s\n", p)
		}
	}
}

func (l *Log) folded(s *stepFold) {
	for _, text := range s.lines() {
		l.line(Event{Time: s.at, Phase: s.phase}, text)
	}
}

func (l *Log) line(ev Event, text string) {
	secs := int64(l.state.Elapsed(ev.Time) / time.Second)
	fmt.Fprintf(l.Stderr, "T+%02d:%02d %-12s %s\n", secs/60, secs%60, ev.Phase, text)
}

// State is the journal as the log folded it.
func (l *Log) State() *State {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == nil {
		l.state = NewState(nil)
	}
	return l.state
}

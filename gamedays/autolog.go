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

	mu    sync.Mutex
	state *State
	// A failing metrics server repeats one error every poll: the repeats
	// are counted and said once when the error changes or clears.
	lastErr  string
	repeated int
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
	if ev.Type == EvMetricsError && ev.Msg == l.lastErr {
		l.repeated++
		return
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
	text := l.state.Describe(ev)
	if ev.Type == EvRunStart {
		text += ", journal " + l.Journal
	}
	l.line(ev, text)
	if l.DryRun && !l.JSON && ev.Type == EvPreflight && ev.Injection != nil {
		fmt.Fprintf(l.Stdout, "# %s (%s) on %s %s\n", ev.Injection.Attack, ev.Injection.Kind, ev.Injection.Member.Target, MemberWhere(ev.Injection.Member))
		for _, p := range ev.Plan {
			fmt.Fprintf(l.Stdout, "%s\n", p)
		}
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

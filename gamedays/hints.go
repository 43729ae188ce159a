package gamedays

import (
	"context"
	"slices"
	"sync"

	"github.com/gameday/gameday/runbook"
)

// hints releases a drill's hints that have an after: that long after the
// first fault landed, on the engine's clock, unless the facilitator released
// them by key already; it stops once the drill is mitigated or the run ends.
type hints struct {
	mu       sync.Mutex
	released map[string]bool
	started  bool
	stop     context.CancelFunc
	done     chan struct{}
}

// noteHint tracks hints and marks as the engine journals them.
func (e *Engine) noteHint(ev Event) {
	if ev.Type != EvNote {
		return
	}
	h := &e.hints
	h.mu.Lock()
	defer h.mu.Unlock()
	switch ev.Kind {
	case NoteHint:
		if h.released == nil {
			h.released = map[string]bool{}
		}
		h.released[ev.Msg] = true
	case NoteMitigated:
		if h.stop != nil {
			h.stop()
		}
		h.started = true // nothing is released after the mitigation
	}
}

// claimHint marks a hint released and says whether it was not yet: a hint
// pressed by key and the same hint due on the schedule are released once.
func (e *Engine) claimHint(text string) bool {
	h := &e.hints
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released == nil {
		h.released = map[string]bool{}
	}
	if h.released[text] {
		return false
	}
	h.released[text] = true
	return true
}

// startHints starts the schedule at the first fault that landed.
func (e *Engine) startHints() {
	if !e.opts.Drill {
		return
	}
	h := &e.hints
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		return
	}
	h.started = true
	var timed []runbook.Hint
	for _, hint := range e.rb.Drill.Hints {
		if hint.After > 0 {
			timed = append(timed, hint)
		}
	}
	if len(timed) == 0 {
		return
	}
	slices.SortStableFunc(timed, func(a, b runbook.Hint) int { return int(a.After - b.After) })
	ctx, cancel := context.WithCancel(context.Background())
	h.stop, h.done = cancel, make(chan struct{})
	from := e.opts.Clock.Now()
	go func() {
		defer close(h.done)
		for _, hint := range timed {
			if wait := from.Add(hint.After).Sub(e.opts.Clock.Now()); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-e.opts.Clock.After(wait):
				}
			}
			if ctx.Err() == nil && e.claimHint(hint.Text) {
				e.note(Intent{Type: IntentNote, Kind: NoteHint, Text: hint.Text, Author: "schedule", At: e.opts.Clock.Now()})
			}
		}
	}()
}

// stopHints ends the schedule and waits for it.
func (e *Engine) stopHints() {
	h := &e.hints
	h.mu.Lock()
	stop, done := h.stop, h.done
	h.started = true
	h.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

package ui

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// Bounds on what the console keeps in memory; the journal keeps everything.
const (
	maxTimeline = 2000
	maxNotes    = 500
)

// attackRow is one attack on one member, as the engine's state holds it.
type attackRow = gamedays.InjectionState

// memberRow is one resolved member and whether it is selected.
type memberRow struct {
	target   string
	member   targets.Member
	selected bool
}

type entry struct {
	seq   int // 1 for the first entry ever added
	at    time.Time
	text  string
	level level
	count int // repeats of the same text in a row
}

type level = gamedays.Level

const (
	lvInfo = gamedays.LevelInfo
	lvOK   = gamedays.LevelOK
	lvWarn = gamedays.LevelWarn
	lvBad  = gamedays.LevelBad
	lvNote = gamedays.LevelNote
)

type note struct {
	at         time.Time
	kind, text string
	author     string
}

// runState is what the console shows: the engine's state, folded from its
// events by gamedays.State (the one fold every view reads), plus what only
// the console keeps: the timeline it scrolls, the notes it lists, the drill
// marks and who is connected. It is bounded whatever the length of the run.
type runState struct {
	*gamedays.State
	rb *runbook.Runbook

	notes    []note
	online   map[string]int // participants connected now, by name (sessions)
	joinedAs []string       // everyone who joined, in order
	redacted bool           // a responder's view
	timeline []entry        // ring of maxTimeline
	tlStart  int
	tlTotal  int // entries ever added

	memberRows []memberRow // members(), until a target resolves or selects again
}

func newRunState(rb *runbook.Runbook) *runState {
	return &runState{State: gamedays.NewState(rb), rb: rb, online: map[string]int{}}
}

// roster follows who is connected, from the server's joined and left
// notes.
func (s *runState) roster(ev gamedays.Event) {
	switch ev.Kind {
	case "joined":
		if s.online[ev.Author] == 0 && !slices.Contains(s.joinedAs, ev.Author) {
			s.joinedAs = append(s.joinedAs, ev.Author)
		}
		s.online[ev.Author]++
	case "left":
		if s.online[ev.Author] > 0 {
			s.online[ev.Author]--
		}
	}
}

// apply folds one event into the state and the timeline.
func (s *runState) apply(ev gamedays.Event) {
	s.State.Apply(ev)
	if ev.Type == gamedays.EvResolved || ev.Type == gamedays.EvSelected {
		s.memberRows = nil
	}
	switch ev.Type {
	case gamedays.EvSample, gamedays.EvLive:
		return // the charts and the check tables show these; a line each would drown the timeline
	case gamedays.EvNote:
		s.roster(ev)
		if ev.Kind != "" {
			if len(s.notes) == maxNotes {
				s.notes = append(s.notes[:0], s.notes[1:]...)
			}
			s.notes = append(s.notes, note{at: ev.Time, kind: ev.Kind, text: ev.Msg, author: ev.Author})
		}
	}
	s.add(ev.Time, gamedays.LevelOf(ev), s.Describe(ev))
}

// canConfirm: the plan is complete and every preflight passed.
func (s *runState) canConfirm() bool {
	if s.Phase != gamedays.PhaseBlastRadius || s.Confirmed || len(s.Injections) == 0 {
		return false
	}
	for _, r := range s.Injections {
		if p := s.preflightOf(r); p == nil || !p.OK {
			return false
		}
	}
	return true
}

// baseOf is a series' baseline median as the engine measured it; NaN when
// not known yet.
func (s *runState) baseOf(panel, series string) float64 {
	if s.Live != nil {
		if v, ok := s.Live.Base[panel][series]; ok {
			return float64(v)
		}
	}
	return math.NaN()
}

// live is the engine's latest judgement; empty before the first.
func (s *runState) live() gamedays.Live {
	if s.Live == nil {
		return gamedays.Live{}
	}
	return *s.Live
}

// members lists every resolved member of every target, marking the
// selected ones.
func (s *runState) members() []memberRow {
	if s.memberRows != nil {
		return s.memberRows
	}
	var out []memberRow
	for _, t := range s.Targets {
		chosen := make(map[string]bool, len(t.Selected))
		for _, x := range t.Selected {
			chosen[x.ID] = true
		}
		for _, m := range t.Resolved {
			out = append(out, memberRow{target: t.Name, member: m, selected: chosen[m.ID]})
		}
	}
	s.memberRows = slices.Clip(out)
	return s.memberRows
}

// seed is the seed a target's selection was drawn with.
func (s *runState) seed(target string) (int64, bool) {
	for _, t := range s.Targets {
		if t.Name == target && t.Seed != nil {
			return *t.Seed, true
		}
	}
	return 0, false
}

// lastLine is an injection's last line of output, or of its error when the
// last step failed.
func lastLine(r *attackRow) string {
	text := r.Output
	if r.Err != "" {
		text = r.Err
	}
	text = strings.TrimRight(text, "\n ")
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[i+1:]
	}
	return text
}

// add appends to the timeline ring, folding an exact repeat of the last
// entry into a count so a flapping source does not flood it.
func (s *runState) add(at time.Time, lv level, text string) {
	if n := len(s.timeline); n > 0 {
		last := &s.timeline[(s.tlStart+n-1)%n]
		if last.text == text && last.level == lv {
			last.count++
			last.at = at
			return
		}
	}
	s.tlTotal++
	e := entry{seq: s.tlTotal, at: at, text: text, level: lv, count: 1}
	if len(s.timeline) < maxTimeline {
		s.timeline = append(s.timeline, e)
		return
	}
	s.timeline[s.tlStart] = e
	s.tlStart = (s.tlStart + 1) % maxTimeline
}

// entries returns the timeline oldest first.
func (s *runState) entries(fn func(entry)) {
	n := len(s.timeline)
	for i := range n {
		fn(s.timeline[(s.tlStart+i)%n])
	}
}

// injected lists what may be in effect now, as "attack on member".
func (s *runState) injected() []string {
	var out []string
	for _, r := range s.Active() {
		out = append(out, r.Key.String())
	}
	return out
}

// tplus formats a duration as T+mm:ss (hours when needed).
func tplus(d time.Duration) string {
	d = max(0, d).Round(time.Second)
	h, m, sec := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	if h > 0 {
		return fmt.Sprintf("T+%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("T+%02d:%02d", m, sec)
}

// clockDur formats a countdown as m:ss.
func clockDur(d time.Duration) string {
	d = max(0, d).Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d/time.Minute), int(d%time.Minute/time.Second))
}

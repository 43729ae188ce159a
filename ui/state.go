package ui

import (
	"fmt"
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

// attackState is where one attack on one member stands.
type attackState int

const (
	attPending attackState = iota
	attInjecting
	attActive
	attInjectFailed
	attRollingBack
	attReverted
	attRollbackFailed
)

var attackStateNames = [...]string{"pending", "injecting", "ACTIVE", "inject failed", "rolling back", "reverted", "ROLLBACK FAILED"}

func (s attackState) String() string { return attackStateNames[s] }

// applied reports whether the attack may be in effect on the member.
func (s attackState) applied() bool {
	return s == attInjecting || s == attActive || s == attRollingBack || s == attRollbackFailed
}

type attackRow struct {
	attack, member string
	state          attackState
	injectedAt     time.Time
	revertedAt     time.Time
	last           string // last line of output or the error
	failed         bool
}

type memberRow struct {
	target   string
	member   targets.Member
	selected bool
}

type preflight struct {
	done, ok bool
	msg      string
	plan     []string // dry run: the commands or calls the injection would make
}

type entry struct {
	seq   int // 1 for the first entry ever added
	at    time.Time
	text  string
	level level
	count int // repeats of the same text in a row
}

type level int

const (
	lvInfo level = iota
	lvOK
	lvWarn
	lvBad
	lvNote
)

type note struct {
	at         time.Time
	kind, text string
	author     string
}

// runState is everything the console knows about the game day, built only
// from engine events. It is bounded whatever the length of the run.
type runState struct {
	rb        *runbook.Runbook
	runID     string
	start     time.Time // run.start
	phase     gamedays.Phase
	phaseAt   [gamedays.PhaseDone + 1]time.Time
	lastEvent time.Time

	baseline    map[string]gamedays.Stats
	steady      []gamedays.CheckResult
	steadyKnown bool
	steadyOK    bool
	statement   string
	expect      []gamedays.CheckResult // resolved at the hypothesis
	results     []gamedays.CheckResult // judged at conclude

	members   []memberRow
	seeds     map[string]int64
	preflight map[string]preflight // attack@member
	confirmed bool

	attacks []*attackRow
	byKey   map[string]*attackRow

	aborting    bool
	abortSource string
	abortMsg    string
	guardrail   string
	blind       string
	metricsErr  string

	verdict    gamedays.Verdict
	verdictMsg string
	verdictSet bool
	failed     []targets.Injection
	ended      bool

	notes    []note
	online   map[string]int // participants connected now, by name (sessions)
	joinedAs []string       // everyone who joined, in order
	drill    drillState
	redacted bool    // a responder's view
	timeline []entry // ring of maxTimeline
	tlStart  int
	tlTotal  int // entries ever added
}

func newRunState(rb *runbook.Runbook) *runState {
	return &runState{rb: rb, seeds: map[string]int64{}, preflight: map[string]preflight{}, byKey: map[string]*attackRow{},
		online: map[string]int{}}
}

// drillState is where a drill stands, as the journal will tell it: the
// first marks after the first inject count, hints are released in order.
type drillState struct {
	injected            time.Time // zero for a responder, who is not told
	detected, mitigated *note
	falseAlarms         int
	hints               []string // released, oldest first
}

func (s *runState) drillNote(ev gamedays.Event) {
	d := &s.drill
	n := &note{at: ev.Time, kind: ev.Kind, text: ev.Msg, author: ev.Author}
	switch ev.Kind {
	case gamedays.NoteHint:
		d.hints = append(d.hints, ev.Msg)
	case gamedays.NoteDetected:
		// A responder is not told when the inject was, so the console
		// cannot call their mark early; the journal still does.
		if d.detected == nil && (!d.injected.IsZero() || s.redacted) {
			d.detected = n
		} else if d.detected == nil {
			d.falseAlarms++
		}
	case gamedays.NoteMitigated:
		if d.mitigated == nil {
			d.mitigated = n
		}
	case "joined":
		if s.online[ev.Author] == 0 && !contains(s.joinedAs, ev.Author) {
			s.joinedAs = append(s.joinedAs, ev.Author)
		}
		s.online[ev.Author]++
	case "left":
		if s.online[ev.Author] > 0 {
			s.online[ev.Author]--
		}
	}
}

func injKey(attack, member string) string { return attack + "@" + member }

// apply folds one event into the state.
func (s *runState) apply(ev gamedays.Event) {
	if !ev.Time.IsZero() {
		s.lastEvent = ev.Time
	}
	switch ev.Type {
	case gamedays.EvRunStart:
		s.start, s.runID = ev.Time, ev.RunID
		s.add(ev.Time, lvInfo, "game day started: "+ev.Msg)
	case gamedays.EvPhase:
		p := phaseOf(ev.Phase)
		s.phase = p
		if int(p) < len(s.phaseAt) && s.phaseAt[p].IsZero() {
			s.phaseAt[p] = ev.Time
		}
		s.add(ev.Time, lvInfo, "phase: "+ev.Phase)
	case gamedays.EvBaseline:
		s.baseline = ev.Stats
		var parts []string
		for _, p := range s.rb.Metrics.Panels {
			if st, ok := ev.Stats[p.Name]; ok {
				parts = append(parts, fmt.Sprintf("%s median %s p95 %s", p.Name, s.format(p.Name, float64(st.Median)), s.format(p.Name, float64(st.P95))))
			}
		}
		s.add(ev.Time, lvInfo, "baseline: "+strings.Join(parts, "; "))
	case gamedays.EvSteadyState:
		s.steady, s.steadyKnown = ev.Checks, true
		s.steadyOK = ev.OK != nil && *ev.OK
		if s.steadyOK {
			s.add(ev.Time, lvOK, "steady state holds")
		} else {
			s.add(ev.Time, lvBad, "steady state does NOT hold")
		}
	case gamedays.EvHypothesis:
		s.statement, s.expect = ev.Msg, ev.Checks
		s.add(ev.Time, lvInfo, "hypothesis: "+ev.Msg)
	case gamedays.EvResolved:
		for _, m := range ev.Members {
			s.members = append(s.members, memberRow{target: ev.Target, member: m})
		}
		s.add(ev.Time, lvInfo, fmt.Sprintf("resolved %s: %d member(s)", ev.Target, len(ev.Members)))
	case gamedays.EvSelected:
		var ids []string
		for _, m := range ev.Members {
			ids = append(ids, m.ID)
			for i := range s.members {
				if s.members[i].target == ev.Target && s.members[i].member.ID == m.ID {
					s.members[i].selected = true
				}
			}
		}
		if ev.Seed != nil {
			s.seeds[ev.Target] = *ev.Seed
		}
		s.planAttacks(ev.Target, ids)
		s.add(ev.Time, lvInfo, fmt.Sprintf("selected %s: %s", ev.Target, strings.Join(ids, ", ")))
	case gamedays.EvPreflight:
		if ev.Injection == nil {
			break
		}
		k := injKey(ev.Injection.Attack, ev.Injection.Member.ID)
		ok := ev.OK != nil && *ev.OK
		s.preflight[k] = preflight{done: true, ok: ok, msg: ev.Msg, plan: ev.Plan}
		if ok {
			s.add(ev.Time, lvOK, "preflight "+ev.Injection.Attack+" on "+ev.Injection.Member.ID+": ok")
		} else {
			s.add(ev.Time, lvBad, "preflight "+ev.Injection.Attack+" on "+ev.Injection.Member.ID+" FAILED: "+ev.Msg)
		}
	case gamedays.EvConfirmed:
		s.confirmed = true
		s.add(ev.Time, lvOK, "blast radius confirmed: "+ev.Msg)
	case gamedays.EvAttackIntent:
		if r := s.row(ev.Injection); r != nil {
			r.state, r.injectedAt = attInjecting, ev.Time
			s.add(ev.Time, lvWarn, "injecting "+r.attack+" on "+r.member)
		}
	case gamedays.EvAttackResult:
		if r := s.row(ev.Injection); r != nil {
			r.last = resultLine(ev.Result)
			if ev.OK != nil && *ev.OK {
				r.state = attActive
				if s.drill.injected.IsZero() {
					s.drill.injected = ev.Time
				}
				s.add(ev.Time, lvWarn, "injected "+r.attack+" on "+r.member)
			} else {
				// Still counted as applied until a rollback confirms: the
				// call may have half worked.
				r.state, r.failed = attInjectFailed, true
				s.add(ev.Time, lvBad, "inject "+r.attack+" on "+r.member+" FAILED: "+r.last)
			}
		}
	case gamedays.EvRollbackIntent:
		if r := s.row(ev.Injection); r != nil {
			r.state = attRollingBack
			s.add(ev.Time, lvInfo, "rolling back "+r.attack+" on "+r.member+" ("+ev.Msg+")")
		}
	case gamedays.EvRollbackResult:
		if r := s.row(ev.Injection); r != nil {
			if out := resultLine(ev.Result); out != "" {
				r.last = out
			}
			if ev.OK != nil && *ev.OK {
				r.state, r.revertedAt = attReverted, ev.Time
				s.add(ev.Time, lvOK, "reverted "+r.attack+" on "+r.member)
			} else {
				r.state, r.failed = attRollbackFailed, true
				s.add(ev.Time, lvBad, "ROLLBACK FAILED "+r.attack+" on "+r.member+": "+r.last)
			}
		}
	case gamedays.EvGuardrail:
		s.guardrail = ev.Msg
		s.add(ev.Time, lvBad, "GUARDRAIL: "+ev.Msg)
	case gamedays.EvBlind:
		s.blind = ev.Msg
		s.add(ev.Time, lvBad, "METRICS BLIND: "+ev.Msg)
	case gamedays.EvMetricsError:
		s.metricsErr = ev.Msg
		s.add(ev.Time, lvWarn, "metrics: "+ev.Msg)
	case gamedays.EvAbort:
		if !s.aborting {
			s.aborting, s.abortSource, s.abortMsg = true, ev.Source, ev.Msg
		}
		s.add(ev.Time, lvBad, "ABORT ("+ev.Source+"): "+ev.Msg)
	case gamedays.EvNote:
		s.drillNote(ev)
		if ev.Kind != "" {
			if len(s.notes) == maxNotes {
				s.notes = append(s.notes[:0], s.notes[1:]...)
			}
			s.notes = append(s.notes, note{at: ev.Time, kind: ev.Kind, text: ev.Msg, author: ev.Author})
			who := ""
			if ev.Author != "" {
				who = " (" + ev.Author + ")"
			}
			s.add(ev.Time, lvNote, ev.Kind+who+": "+ev.Msg)
		} else {
			s.add(ev.Time, lvInfo, ev.Msg) // the engine's own remarks
		}
	case gamedays.EvExpectation:
		s.results = ev.Checks
		for _, c := range ev.Checks {
			lv := lvOK
			if !c.Held {
				lv = lvBad
			}
			s.add(ev.Time, lv, "expectation "+c.Text)
		}
	case gamedays.EvVerdict:
		s.verdict, s.verdictMsg, s.verdictSet = gamedays.Verdict(ev.Verdict), ev.Msg, true
		s.failed = ev.Failed
		lv := lvOK
		if ev.Verdict != string(gamedays.VerdictHeld) {
			lv = lvBad
		}
		s.add(ev.Time, lv, "verdict "+verdictWord(s.verdict)+": "+ev.Msg)
	case gamedays.EvRunEnd:
		s.ended = true
		if len(ev.Failed) > 0 {
			s.failed = ev.Failed
		}
		s.add(ev.Time, lvInfo, "game day ended")
	}
}

// planAttacks lists, as pending, every attack on the target's selected
// members, so the run screen shows what will happen before it does.
func (s *runState) planAttacks(target string, ids []string) {
	if s.rb == nil {
		return
	}
	for _, a := range s.rb.Attacks {
		if a.Target != target {
			continue
		}
		for _, id := range ids {
			k := injKey(a.Name, id)
			if s.byKey[k] == nil {
				r := &attackRow{attack: a.Name, member: id}
				s.byKey[k] = r
				s.attacks = append(s.attacks, r)
			}
		}
	}
}

func (s *runState) row(inj *targets.Injection) *attackRow {
	if inj == nil {
		return nil
	}
	k := injKey(inj.Attack, inj.Member.ID)
	r := s.byKey[k]
	if r == nil {
		r = &attackRow{attack: inj.Attack, member: inj.Member.ID}
		s.byKey[k] = r
		s.attacks = append(s.attacks, r)
	}
	return r
}

func resultLine(r *targets.Result) string {
	if r == nil {
		return ""
	}
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

func (s *runState) format(panel string, v float64) string {
	unit := runbook.UnitNone
	if s.rb != nil {
		if p, ok := s.rb.Panel(panel); ok {
			unit = p.Unit
		}
	}
	return runbook.FormatValue(v, unit)
}

// injected lists what may be in effect now, as "attack on member".
func (s *runState) injected() []string {
	var out []string
	for _, r := range s.attacks {
		if r.state.applied() {
			out = append(out, r.attack+" on "+r.member)
		}
	}
	return out
}

// elapsed is T+ at t.
func (s *runState) elapsed(t time.Time) time.Duration {
	if s.start.IsZero() || t.Before(s.start) {
		return 0
	}
	return t.Sub(s.start)
}

func phaseOf(name string) gamedays.Phase {
	for p := gamedays.PhaseBaseline; p <= gamedays.PhaseDone; p++ {
		if p.String() == name {
			return p
		}
	}
	return gamedays.PhaseBaseline
}

func verdictWord(v gamedays.Verdict) string {
	if v == gamedays.VerdictNone {
		return "none"
	}
	return string(v)
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

package gamedays

import (
	"fmt"
	"time"
)

// foldAbove is how many members a run may have before the autopilot says
// each step of an attack (preflight, inject, rollback) in one line instead
// of one line per member; --verbose keeps one line per member.
const foldAbove = 10

// stepFold gathers one attack's members at one step until the step is done
// on all of them.
type stepFold struct {
	attack, kind, target string
	typ                  string
	phase                string
	at                   time.Time
	ok                   int
	failed, noticed      []MemberFailure
	duration             time.Duration
}

type foldKey struct{ typ, attack string }

// folder is the Log's folding state.
type folder struct {
	selected map[string]int // members per target
	total    int
	pending  map[foldKey]*stepFold
	order    []foldKey
}

// count notes how many members a selection chose.
func (f *folder) count(ev Event) {
	if f.selected == nil {
		f.selected = map[string]int{}
	}
	f.selected[ev.Target] = len(ev.Members)
	f.total += len(ev.Members)
}

func isMemberStep(typ string) bool {
	switch typ {
	case EvPreflight, EvAttackIntent, EvAttackResult, EvRollbackIntent, EvRollbackResult:
		return true
	}
	return false
}

// add folds ev in and returns the step if it is now done on every member
// of its target.
func (f *folder) add(ev Event) *stepFold {
	inj := ev.Injection
	k := foldKey{ev.Type, inj.Attack}
	s := f.pending[k]
	if s == nil {
		if f.pending == nil {
			f.pending = map[foldKey]*stepFold{}
		}
		s = &stepFold{attack: inj.Attack, kind: inj.Kind, target: inj.Member.Target, typ: ev.Type, duration: inj.Duration}
		f.pending[k] = s
		f.order = append(f.order, k)
	}
	s.phase, s.at = ev.Phase, ev.Time
	id := inj.Member.ID
	switch {
	case ev.OK != nil && !*ev.OK:
		msg := ev.Msg
		if ev.Result != nil && ev.Result.Err != "" {
			msg = ev.Result.Err
		}
		s.failed = append(s.failed, MemberFailure{Member: id, Msg: msg})
	default:
		s.ok++
		for _, w := range ev.Warnings {
			s.noticed = append(s.noticed, MemberFailure{Member: id, Msg: w})
		}
		if ev.Result != nil && ev.Result.LinkLost {
			s.noticed = append(s.noticed, MemberFailure{Member: id, Msg: "the link was lost after the inject; its dead man's switch ends the fault"})
		}
	}
	if n := f.selected[s.target]; n > 0 && s.ok+len(s.failed) >= n {
		f.drop(k)
		return s
	}
	return nil
}

func (f *folder) drop(k foldKey) {
	delete(f.pending, k)
	for i, o := range f.order {
		if o == k {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
}

// flush returns every step still gathering, in the order they began.
func (f *folder) flush() []*stepFold {
	var out []*stepFold
	for _, k := range f.order {
		out = append(out, f.pending[k])
	}
	f.pending, f.order = nil, nil
	return out
}

// lines says a folded step: one summary line, then one line per reason
// naming its members.
func (s *stepFold) lines() []string {
	n := s.ok + len(s.failed)
	name := fmt.Sprintf("%s (%s) on %d member(s) of %s", s.attack, s.kind, n, s.target)
	var line, failed string
	switch s.typ {
	case EvPreflight:
		line, failed = fmt.Sprintf("preflight %s: %d ok", name, s.ok), "PREFLIGHT FAILED"
	case EvAttackIntent:
		line = fmt.Sprintf("inject %s for %s", name, FormatDuration(s.duration))
	case EvAttackResult:
		line, failed = fmt.Sprintf("injected %s: %d ok", name, s.ok), "INJECT FAILED"
	case EvRollbackIntent:
		line = "roll back " + name
	default:
		line, failed = fmt.Sprintf("rolled back %s: %d ok", name, s.ok), "ROLLBACK FAILED"
	}
	var details []string
	if len(s.failed) > 0 {
		rs := GroupFailures(s.failed)
		line += fmt.Sprintf(", %d %s: %s", len(s.failed), failed, Summary(rs))
		details = append(details, Details(rs)...)
	}
	if len(s.noticed) > 0 {
		rs := GroupFailures(s.noticed)
		line += fmt.Sprintf("; WARNING on %d: %s", len(s.noticed), Summary(rs))
		details = append(details, Details(rs)...)
	}
	out := []string{line}
	for _, d := range details {
		out = append(out, "    "+d)
	}
	return out
}

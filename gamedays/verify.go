package gamedays

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/gameday/gameday/targets"
)

// Problem is one reason a journal cannot be trusted, at the line where it
// was found.
type Problem struct {
	Line int
	Msg  string
}

// CheckedJournal is a journal read for recovery: its events, and whether
// it is, line for line, the journal gameday wrote for this run.
type CheckedJournal struct {
	Path string
	// Events holds every line that parses, in order; damaged lines are left
	// out (and listed in Problems).
	Events []Event
	// Truncated is the incomplete last line a crash leaves; nil when none.
	Truncated *TruncatedError
	// Problems says why the journal is not trusted: lines not sealed by the
	// key, out of order, missing or added, or events that do not hold
	// together. None means recover may act on it.
	Problems []Problem

	lines []int  // the line of each event
	seq   int64  // the last sequence number seen
	mac   string // the last complete line's MAC, which appended lines chain from
}

// UntrustedError says recover refused a journal, naming the line it stopped
// at.
type UntrustedError struct {
	Path     string
	Problems []Problem
}

func (e *UntrustedError) Error() string {
	p := e.Problems[0]
	s := fmt.Sprintf("%s:%d: %s", e.Path, p.Line, p.Msg)
	if n := len(e.Problems) - 1; n > 0 {
		s += fmt.Sprintf(" (and %d more problem(s) after it)", n)
	}
	return s
}

// CheckJournal reads the journal at path for recovery. It never fails on
// what a line says, only on what stops it reading: every line is checked
// against key's seal and its place in the chain, and the events against
// each other (sequence numbers without gaps; one run.start whose run_id is
// the run directory's name; every injection of that run, confirmed in a
// blast.confirmed before it, and none after the run ended; every
// attack.result matching its intent). A nil key finds every line
// unauthenticated.
func CheckJournal(path string, key *JournalKey) (*CheckedJournal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	defer f.Close()
	c := &CheckedJournal{Path: path, mac: chainStart}
	if key == nil {
		c.problem(1, "no journal key to authenticate it with")
	}
	unsealed := false
	err = scanJournal(path, f, func(line int, raw []byte, complete bool, start int64) error {
		body, mac, sealed := unseal(raw)
		var e Event
		if jerr := json.Unmarshal(raw, &e); jerr != nil {
			if !complete {
				c.Truncated = &TruncatedError{Path: path, Line: line, Offset: start}
				return nil
			}
			c.problem(line, fmt.Sprintf("damaged line: %v", jerr))
		} else if e.V > SchemaVersion {
			return fmt.Errorf("%s:%d: journal schema version %d is newer than this gameday reads (%d)", path, line, e.V, SchemaVersion)
		} else {
			c.Events = append(c.Events, e)
			c.lines = append(c.lines, line)
			c.seq = max(c.seq, e.Seq)
		}
		switch {
		case !sealed:
			// A journal from before sealing has no seal on any line:
			// saying so once is enough.
			if !unsealed {
				c.problem(line, "line is not sealed: the journal was written before gameday sealed its journals, or by something else")
			}
			unsealed = true
			return nil
		case key != nil && !key.verify(c.mac, body, mac):
			c.problem(line, fmt.Sprintf("seal does not match: this line was changed, added or moved, or a line before it was removed (or the journal was sealed with another key than %s)", key.Path))
		}
		// The chain goes on from what the line claims, so one changed line
		// is one problem, not every line after it.
		c.mac = mac
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.checkEvents(filepath.Base(filepath.Dir(path)))
	slices.SortStableFunc(c.Problems, func(a, b Problem) int { return a.Line - b.Line })
	return c, nil
}

func (c *CheckedJournal) problem(line int, msg string) {
	c.Problems = append(c.Problems, Problem{Line: line, Msg: msg})
}

// checkEvents finds events that a journal gameday wrote for run runID
// cannot hold, however well sealed.
func (c *CheckedJournal) checkEvents(runID string) {
	var started *Event
	endedAt := 0
	confirmed := map[string]bool{}
	intents := map[Key]targets.Injection{}
	var prev int64
	for i := range c.Events {
		e, line := &c.Events[i], c.lines[i]
		if e.Seq != prev+1 {
			c.problem(line, fmt.Sprintf("seq %d where %d was expected: a line is missing or was added", e.Seq, prev+1))
		}
		prev = e.Seq
		switch e.Type {
		case EvRunStart:
			switch {
			case started != nil:
				c.problem(line, fmt.Sprintf("a second run.start (run_id %q)", e.RunID))
			case e.RunID != runID:
				c.problem(line, fmt.Sprintf("run_id %q is not this run's: the run directory is %q", e.RunID, runID))
			}
			if started == nil {
				started = e
			}
		case EvConfirmed:
			for _, m := range e.Members {
				confirmed[memberKey(m)] = true
			}
		case EvRunEnd:
			endedAt = line
		case EvRecover:
			if e.OK != nil && *e.OK {
				endedAt = line
			}
		case EvAttackIntent, EvAttackResult:
			if e.Injection == nil {
				continue
			}
			inj := *e.Injection
			k := KeyOf(inj)
			switch {
			case started == nil:
				c.problem(line, fmt.Sprintf("%s before run.start", e.Type))
			case inj.RunID != started.RunID:
				c.problem(line, fmt.Sprintf("%s of run %q in the journal of run %q", e.Type, inj.RunID, started.RunID))
			case endedAt > 0:
				c.problem(line, fmt.Sprintf("%s of %s on %s after the run ended at line %d", e.Type, inj.Attack, inj.Member.ID, endedAt))
			case e.Type == EvAttackIntent && !confirmed[memberKey(inj.Member)]:
				c.problem(line, fmt.Sprintf("attack.intent of %s on %s (target %s), which no blast.confirmed before it confirmed", inj.Attack, inj.Member.ID, inj.Member.Target))
			case e.Type == EvAttackResult && !sameInjection(intents[k], inj):
				c.problem(line, fmt.Sprintf("attack.result of %s on %s does not match an attack.intent before it", inj.Attack, inj.Member.ID))
			}
			if e.Type == EvAttackIntent {
				intents[k] = inj
			}
		}
	}
	if started == nil && len(c.Events) > 0 {
		c.problem(c.lines[0], "the journal has no run.start")
	}
}

func memberKey(m targets.Member) string { return m.Target + "\x00" + m.ID }

// sameInjection says whether result is intent with what the executor learnt
// at inject time (State) added, and nothing else changed.
func sameInjection(intent, result targets.Injection) bool {
	return intent.RunID == result.RunID && intent.Attack == result.Attack && intent.Kind == result.Kind &&
		intent.Duration == result.Duration && maps.Equal(intent.Params, result.Params) &&
		intent.Member.Target == result.Member.Target && intent.Member.ID == result.Member.ID &&
		intent.Member.Addr == result.Member.Addr && maps.Equal(intent.Member.Labels, result.Member.Labels)
}

// continueJournal opens a checked journal to append to it, each new line
// sealed with key (when there is one) after the last line there.
func (c *CheckedJournal) continueJournal(clock Clock, key *JournalKey) (*Journal, error) {
	f, err := os.OpenFile(c.Path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	j := newJournal(f, c.Path, clock)
	j.seq, j.onDisk = c.seq, c.seq
	j.key, j.mac = key, c.mac
	// A last line without its newline is still a whole event: the next
	// one starts on a line of its own.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if r, err := os.Open(c.Path); err == nil {
			r.ReadAt(last, st.Size()-1)
			r.Close()
		}
		if last[0] != '\n' {
			j.w.WriteByte('\n')
		}
	}
	return j, nil
}

package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
)

// attacksView is each attack on each member with its state, countdown and
// last output, and the guardrails.
func (m *model) attacksView() []string {
	st, s, rb := m.styles, m.run, m.cfg.Runbook
	runAt := s.PhaseAt[gamedays.PhaseRun]
	var out []string
	if rb != nil && !runAt.IsZero() {
		left := runAt.Add(rb.Observe.Duration).Sub(m.now)
		out = append(out, st.Bold.Render("Attacks")+fmt.Sprintf(": observe ends in %s", clockDur(left)))
	}
	if m.redact {
		// A responder is told nothing of the attacks: finding them is the drill.
		out = append(out, st.Muted.Render("Something may be wrong. Watch the charts and the timeline; d when you have found it, m when you have fixed it."))
		return append(out, m.drillView()...)
	}
	rows := [][]cell{}
	maxRows := max(2, m.bodyHeight()/4)
	for i, r := range s.Injections {
		if i == maxRows {
			rows = append(rows, []cell{cs(fmt.Sprintf("… %d more", len(s.Injections)-i), st.Muted)})
			break
		}
		rows = append(rows, []cell{c(r.Key.Attack), c(r.Key.Member), m.stateCell(r), c(m.when(r)), m.outputCell(r)})
	}
	out = append(out, m.table([]string{"attack", "member", "state", "when", "last output"}, []int{16, 18, 16, 16}, rows)...)
	if g := m.guardText(); g != "" {
		out = append(out, g)
	}
	return append(out, m.drillView()...)
}

// stateCell is an attack's state, coloured and worded.
func (m *page) stateCell(r *attackRow) cell {
	st := m.styles
	switch r.Status {
	case gamedays.StatusApplied, gamedays.StatusInjecting:
		if r.LinkLost {
			// The fault cut gameday's own link: only the host's dead
			// man's switch can end it now.
			return cs("LINK LOST", st.Bad)
		}
		return cs(r.Status.String(), st.Warn)
	case gamedays.StatusInjectFailed, gamedays.StatusRollbackFailed:
		return cs(r.Status.String(), st.Bad)
	case gamedays.StatusReverted:
		if r.Irreversible {
			return cs("done; not undoable", st.Warn)
		}
		return cs("✓ reverted", st.OK)
	}
	return cs(r.Status.String(), st.Muted)
}

// outputCell is the last output line, red when it explains a failure.
func (m *page) outputCell(r *attackRow) cell {
	if r.Status == gamedays.StatusInjectFailed || r.Status == gamedays.StatusRollbackFailed {
		return cs(lastLine(r), m.styles.Bad)
	}
	return c(lastLine(r))
}

// when is the countdown of one attack on one member.
func (m *model) when(r *attackRow) string {
	rb, s := m.cfg.Runbook, m.run
	runAt := s.PhaseAt[gamedays.PhaseRun]
	if rb == nil || runAt.IsZero() {
		return ""
	}
	var a runbook.Attack
	for _, x := range rb.Attacks {
		if x.Name == r.Key.Attack {
			a = x
		}
	}
	start, end := runAt.Add(a.StartAfter), runAt.Add(a.StartAfter+a.Duration)
	switch r.Status {
	case gamedays.StatusPlanned:
		return "starts in " + clockDur(start.Sub(m.now))
	case gamedays.StatusApplied, gamedays.StatusInjecting:
		if r.LinkLost && !r.Expires.IsZero() {
			return "switch " + tplus(s.Elapsed(r.Expires))
		}
		return "ends in " + clockDur(end.Sub(m.now))
	case gamedays.StatusReverted:
		return "at " + tplus(s.Elapsed(r.RevertedAt))
	}
	return ""
}

// guardText is the guardrails' live state, loud when one is breaching.
func (m *model) guardText() string {
	st, guards := m.styles, m.run.live().Guards
	if len(guards) == 0 {
		return ""
	}
	var parts []string
	bad := false
	for _, g := range guards {
		t := g.Panel + " " + g.Threshold
		switch {
		case g.Fired:
			bad = true
			parts = append(parts, t+": FIRED")
		case g.Pending:
			bad = true
			parts = append(parts, fmt.Sprintf("%s: breached for %s", t, g.Breached.Round(time.Second)))
		default:
			parts = append(parts, t+": ok")
		}
	}
	line := "guardrails: " + strings.Join(parts, "; ")
	if bad {
		return st.Bad.Render(line)
	}
	return st.Muted.Render(line)
}

// abortView is the rollback per member, failures in red, and what to do
// next.
func (m *model) abortView() []string {
	st, s, cfg := m.styles, m.run, m.cfg
	msg := s.Abort.Msg
	if s.Ended {
		// "rolling back N injection(s)" was true when the abort began.
		msg, _, _ = strings.Cut(msg, "; rolling back")
	}
	out := []string{st.Bad.Render("ABORTED") + ": " + msg}
	// Failures first, then what is still rolling back: with many members the
	// rows that need someone's attention must be the ones on screen.
	var touched []*attackRow
	reverted, failed := 0, 0
	for _, r := range s.Injections {
		if r.Status == gamedays.StatusPlanned {
			continue
		}
		touched = append(touched, r)
		switch r.Status {
		case gamedays.StatusReverted:
			reverted++
		case gamedays.StatusRollbackFailed:
			failed++
		}
	}
	total := len(touched)
	urgency := func(r *attackRow) int {
		switch r.Status {
		case gamedays.StatusRollbackFailed, gamedays.StatusInjectFailed:
			return 0
		case gamedays.StatusReverted:
			return 2
		}
		return 1
	}
	sort.SliceStable(touched, func(i, j int) bool { return urgency(touched[i]) < urgency(touched[j]) })
	limit := max(2, m.bodyHeight()-12)
	rows := [][]cell{}
	for i, r := range touched {
		if i == limit {
			rows = append(rows, []cell{cs(fmt.Sprintf("… %d more", total-i), st.Muted)})
			break
		}
		rows = append(rows, []cell{c(r.Key.Attack), c(r.Key.Member), m.stateCell(r), m.outputCell(r)})
	}
	if total == 0 {
		out = append(out, st.OK.Render("Nothing had been injected; nothing to roll back."))
	} else {
		out = append(out, m.table([]string{"attack", "member", "rollback", "detail"}, []int{16, 18, 18}, rows)...)
		out = append(out, fmt.Sprintf("%d of %d reverted", reverted, total))
	}
	runDir := cfg.RunDir
	if runDir == "" {
		runDir = "RUN_DIR"
	}
	switch {
	case failed > 0 || len(s.Failed) > 0:
		n := max(failed, len(s.Failed))
		out = append(out, st.Bad.Render(fmt.Sprintf("ROLLBACK INCOMPLETE on %d: something may still be applied.", n)))
		out = append(out, m.wrapStyled("Next: run `gameday recover "+runDir+"` now, and check the hosts named above by hand.", st.Bad)...)
	case !s.Ended:
		out = append(out, st.Warn.Render("Rolling back… the console stays until every rollback has answered."))
	default:
		out = append(out, st.OK.Render("Everything injected was reverted."))
		out = append(out, m.wrapStyled("Next: f and a write up findings and action items; e writes the report into "+runDir+" (or run `gameday report "+runDir+"` later); q leaves.", lipgloss.NewStyle())...)
	}
	return out
}

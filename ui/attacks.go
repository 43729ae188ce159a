package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
)

// attacksScreen is the run and observe phases: the attacks as they land
// and are rolled back, under the charts.
type attacksScreen struct {
	page
	scroll memberScroll
}

func (m *attacksScreen) scroller() *memberScroll { return &m.scroll }

// ShortHelp: once the faults are in, the room writes up what it sees; a
// staged run adds its keys.
func (m *attacksScreen) ShortHelp() []key.Binding {
	if m.run.Phase == gamedays.PhaseObserve {
		return []key.Binding{m.keys.Finding, m.keys.ActionItem}
	}
	return m.stageKeys()
}

// Update: the keys of a staged run.
func (m *attacksScreen) Update(msg tea.Msg) tea.Cmd {
	m.stageKey(msg)
	return nil
}

// View is each attack on each member with its state, countdown and last
// output, the guardrails, and in a drill where it stands.
func (m *attacksScreen) View() []string {
	st, s, rb := m.styles, m.run, m.cfg.Runbook
	runAt := s.PhaseAt[gamedays.PhaseRun]
	var out []string
	if rb != nil && !runAt.IsZero() {
		left := runAt.Add(rb.Observe.Duration).Sub(m.now)
		out = append(out, st.Bold.Render("Attacks")+fmt.Sprintf(": observe ends in %s", clockDur(left)))
	}
	if !m.redact {
		out = append(out, m.stageLine()...)
		if m.run.staged() && m.height >= 30 {
			out = append(out, m.stageGrid(m.height/4, nil)...)
		}
	}
	if m.redact {
		// A responder is told nothing of the attacks: finding them is the drill.
		out = append(out, st.Muted.Render("Something may be wrong. Watch the charts and the timeline; d when you have found it, m when you have fixed it."))
		return append(out, m.drillView(false)...)
	}
	out = append(out, m.attackTable()...)
	if g := m.guardText(); g != "" {
		out = append(out, g)
	}
	out = append(out, m.alertStrip()...)
	return append(out, m.drillView(false)...)
}

// attackTable is each attack on each member, those with a problem first;
// beyond what fits, a line per attack counts its members by state, the
// rows scroll and / shows only the problems.
func (m *attacksScreen) attackTable() []string {
	st, s := m.styles, m.run
	var problems, rest []*attackRow
	for _, r := range s.Injections {
		switch {
		case attackProblem(r):
			problems = append(problems, r)
		case !m.scroll.problems:
			rest = append(rest, r)
		}
	}
	rowsShown := append(problems, rest...)
	limit := max(2, m.height/4)
	var out []string
	if len(s.Injections) > limit {
		out = append(out, m.attackCounts()...)
	}
	from, to := m.scroll.window(len(rowsShown), limit)
	rows := [][]cell{}
	for _, r := range rowsShown[from:to] {
		rows = append(rows, []cell{c(r.Key.Attack), c(r.Key.Member), m.stateCell(r), c(m.when(r)), m.outputCell(r)})
	}
	out = append(out, m.table([]string{"attack", "member", "state", "when", "last output"}, []int{16, 18, 16, 16}, rows)...)
	if f := m.scroll.footer(from, to, len(rowsShown), len(s.Injections)); f != "" {
		out = append(out, st.Muted.Render(f))
	}
	return out
}

// attackCounts is one line per attack: its members by state.
func (m *attacksScreen) attackCounts() []string {
	st := m.styles
	type tally struct {
		target string
		n      int
		by     map[string]int
		bad    bool
	}
	var order []string
	tallies := map[string]*tally{}
	for _, r := range m.run.Injections {
		t := tallies[r.Key.Attack]
		if t == nil {
			t = &tally{target: r.Key.Target, by: map[string]int{}}
			tallies[r.Key.Attack] = t
			order = append(order, r.Key.Attack)
		}
		t.n++
		t.by[r.Status.String()]++ // statuses in their order of progress below
		t.bad = t.bad || attackProblem(r)
	}
	var out []string
	for _, a := range order {
		t := tallies[a]
		var parts []string
		for status := gamedays.Status(0); status.String() != "unknown"; status++ {
			if k := t.by[status.String()]; k > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", k, status))
			}
		}
		line := fmt.Sprintf("%s on %d member(s) of %s: %s", a, t.n, t.target, strings.Join(parts, ", "))
		style := st.Muted
		if t.bad {
			style = st.Bad
		}
		out = append(out, style.Render(line))
	}
	return out
}

// when is the countdown of one attack on one member.
func (m *attacksScreen) when(r *attackRow) string {
	rb, s := m.cfg.Runbook, m.run
	runAt := s.PhaseAt[gamedays.PhaseRun]
	if rb == nil || runAt.IsZero() {
		return ""
	}
	if w, ok := m.stagedWhen(r); ok {
		return w
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
	case gamedays.StatusEnded:
		return "ended " + tplus(s.Elapsed(r.EndedAt))
	case gamedays.StatusReverted:
		return "at " + tplus(s.Elapsed(r.RevertedAt))
	}
	return ""
}

// guardText is the guardrails' live state, loud when one is breaching.
func (m *attacksScreen) guardText() string {
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

// drillView is the drill's state: marks, times and the hints released so
// far; brief leaves out the hints' texts, for the debrief on conclude.
func (m *page) drillView(brief bool) []string {
	if !m.cfg.Drill {
		return nil
	}
	st, d := m.styles, &m.run.Drill
	mark := func(what string, at time.Time, by, text, key string) string {
		switch {
		case at.IsZero() && m.run.Ended:
			return what + ": " + st.Muted.Render("not reached")
		case at.IsZero():
			return what + ": " + st.Muted.Render("not yet (press "+key+")")
		}
		line := what + ": " + st.OK.Render(tplus(m.run.Elapsed(at)))
		if !d.Injected.IsZero() && !m.redact {
			line += fmt.Sprintf(" (%s after the inject)", at.Sub(d.Injected).Round(time.Second))
		}
		if by == "" {
			by = "someone"
		}
		return line + " by " + by + ": " + text
	}
	out := []string{"", st.Bold.Render("Drill"),
		"  " + mark("detected", d.Detected, d.DetectedBy, d.DetectedWhat, "d"),
		"  " + mark("mitigated", d.Mitigated, d.MitigatedBy, d.MitigatedWhat, "m")}
	if !d.Gone.IsZero() && !m.redact {
		out = append(out, m.wrapStyled(fmt.Sprintf("  seen gone: %s (%s after the inject): %s", tplus(m.run.Elapsed(d.Gone)), gamedays.FormatDuration(d.GoneAfter.Round(time.Second)), d.GoneWhat), st.OK)...)
	}
	if d.FalseAlarms > 0 && !m.redact {
		out = append(out, fmt.Sprintf("  false alarms before the inject: %d", d.FalseAlarms))
	}
	total := 0
	if rb := m.cfg.Runbook; rb != nil {
		total = len(rb.Drill.Hints)
	}
	out = append(out, fmt.Sprintf("  hints released: %d of %d", len(d.Released), total))
	if brief {
		return out
	}
	for _, h := range d.Released {
		out = append(out, m.wrapStyled("    · "+h, st.Accent)...)
	}
	return out
}

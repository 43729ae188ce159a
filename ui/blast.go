package ui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/ui/keys"
)

// blastScreen is the blast-radius phase: every resolved member, what is
// selected, each preflight, the price in error budget and the plan;
// nothing runs until Y.
type blastScreen struct {
	page
	remaining func() (float64, error) // the SLO budget left; nil: all of it
	budget    budgetState
	scroll    memberScroll
}

func (m *blastScreen) scroller() *memberScroll { return &m.scroll }

// budgetState is the error budget left, asked once per console.
type budgetState struct {
	asked, known bool
	left         float64
	err          string
}

// budgetMsg is the share of the error budget left, or why it is unknown.
type budgetMsg struct {
	left float64
	err  error
}

// shownMsg tells a screen its phase has begun.
type shownMsg struct{}

// Update: Y confirms; the budget is asked for once the screen is shown.
func (m *blastScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case shownMsg:
		return m.askBudget()
	case budgetMsg:
		m.budget.known, m.budget.left = true, msg.left
		if msg.err != nil {
			m.budget.err = msg.err.Error()
		}
	case keys.Result:
		if m.sendOn(msg, keys.Confirm) {
			m.out.say("blast radius confirmed; attacks run on schedule")
		}
		m.stageKey(msg)
	}
	return nil
}

// ShortHelp: Y, once every preflight has passed; s in a staged run.
func (m *blastScreen) ShortHelp() []key.Binding {
	var out []key.Binding
	if m.run.canConfirm() {
		out = append(out, m.keys.Confirm)
	}
	return append(out, m.stageKeys()...)
}

// askBudget fetches the budget left in a command, once: it may query
// Prometheus, which Update must never wait for.
func (m *blastScreen) askBudget() tea.Cmd {
	rb := m.cfg.Runbook
	if m.budget.asked || rb == nil || rb.SLO == nil || m.remaining == nil {
		return nil
	}
	m.budget.asked = true
	f := m.remaining
	return func() tea.Msg {
		left, err := f()
		return budgetMsg{left: left, err: err}
	}
}

// View is every resolved member, what is selected, each preflight and the
// plan.
func (m *blastScreen) View() []string {
	st, s := m.styles, m.run
	if m.redact {
		return m.hiddenView()
	}
	out := []string{st.Bold.Render("Blast radius") + ": every resolved member, what is selected, and preflight results."}
	switch {
	case s.Confirmed:
		out = append(out, st.OK.Render("Confirmed."))
	case s.Ended:
	case m.mayConfirm():
		out = append(out, st.Warn.Render("Nothing runs until you press Y."))
	default:
		out = append(out, st.Warn.Render("Nothing runs until the facilitator confirms this blast radius."))
	}
	all := m.run.members()
	if m.run.staged() {
		out = append(out, m.confirmEachLine()...)
		out = append(out, m.stageGrid(max(3, m.height-16), func(id string) cell {
			return m.preflightCell(m.run.injectionsOf(id))
		})...)
	} else {
		out = append(out, m.memberTable(all)...)
	}
	if sum := m.selectionSummary(all); sum != "" {
		out = append(out, "", sum)
	}
	out = append(out, m.budgetView()...)
	out = append(out, m.planView()...)
	return append(out, m.outcome()...)
}

// hiddenView is the blast radius as a drill's responder sees it: that it
// is being checked, not where, since that would give the fault away.
func (m *blastScreen) hiddenView() []string {
	st, s := m.styles, m.run
	out := []string{st.Bold.Render("Blast radius") + ": hidden in a drill."}
	switch {
	case s.Confirmed:
		return append(out, m.wrapStyled("The facilitator has confirmed it. Watch the charts and press d when you detect a problem.", st.Warn)...)
	case s.VerdictSet:
		return append(out, m.wrapStyled("The run stopped before anything was injected.", st.Muted)...)
	}
	return append(out, m.wrapStyled("The facilitator is checking what the drill may touch; nothing is injected until they confirm it.", st.Muted)...)
}

// memberTable lists the members, those whose preflight failed first, then
// the selected: with a large fleet, what will be attacked and what stops
// it must be on screen; the rest scrolls, and / shows only the failures.
func (m *blastScreen) memberTable(all []memberRow) []string {
	st := m.styles
	failed := failedPreflights(m.run)
	members := make([]*memberRow, 0, len(all))
	for pass := range 3 {
		for i := range all {
			mr := &all[i]
			bad := mr.selected && failed[mr.member.ID]
			switch {
			case pass == 0 && bad,
				pass == 1 && mr.selected && !bad && !m.scroll.problems,
				pass == 2 && !mr.selected && !m.scroll.problems:
				members = append(members, mr)
			}
		}
	}
	from, to := m.scroll.window(len(members), max(3, m.height-14))
	rows := [][]cell{}
	for _, mr := range members[from:to] {
		sel, pf := cs("○ not selected", st.Muted), cs("", st.Muted)
		if mr.selected {
			sel, pf = cs("● SELECTED", st.Warn), m.preflightCell(m.run.injectionsOf(mr.member.ID))
		}
		addr := mr.member.Addr
		if addr == "" {
			addr = "-"
		}
		rows = append(rows, []cell{c(mr.target), c(mr.member.ID), c(addr), sel, pf})
	}
	out := m.table([]string{"target", "member", "address", "selection", "preflight"}, []int{14, 22, 20, 16}, rows)
	if f := m.scroll.footer(from, to, len(members), len(all)); f != "" {
		style := st.Muted
		if to < len(members) && members[to].selected {
			style = st.Warn // selected members are below: say so loudly
		}
		out = append(out, style.Render(f))
	}
	return out
}

// selectionSummary is how many of each target's members are selected,
// with which seed, and, when the table cannot show every member, how
// their preflights went.
func (m *blastScreen) selectionSummary(all []memberRow) string {
	rb := m.cfg.Runbook
	if rb == nil {
		return ""
	}
	folded := len(all) > max(3, m.height-14)
	total, chosen := map[string]int{}, map[string]int{}
	for _, mr := range all {
		total[mr.target]++
		if mr.selected {
			chosen[mr.target]++
		}
	}
	var sum []string
	for _, t := range rb.Targets {
		if total[t.Name] == 0 {
			continue
		}
		part := fmt.Sprintf("%s: %d of %d selected", t.Name, chosen[t.Name], total[t.Name])
		if seed, ok := m.run.seed(t.Name); ok {
			part += fmt.Sprintf(" (seed %d)", seed)
		}
		if folded {
			ok, failed, waiting := preflightCounts(m.run, t.Name)
			part += fmt.Sprintf(", preflight %d ok", ok)
			if failed > 0 {
				part += fmt.Sprintf(", %d FAILED", failed)
			}
			if waiting > 0 {
				part += fmt.Sprintf(", %d checking", waiting)
			}
		}
		sum = append(sum, part)
	}
	return strings.Join(sum, "; ")
}

// planView is every attack as the runbook schedules it.
func (m *blastScreen) planView() []string {
	rb := m.cfg.Runbook
	if rb == nil {
		return nil
	}
	out := []string{"", m.styles.Bold.Render("Plan")}
	for _, a := range rb.Attacks {
		out = append(out, fmt.Sprintf("  %s: %s on %s from +%s for %s%s", a.Name, a.Kind, a.Target,
			runbook.FormatDuration(a.StartAfter), runbook.FormatDuration(a.Duration), paramText(a.Params)))
	}
	// What an executor warned of (a fault that cuts gameday's own link
	// until its dead man's switch fires) must be read before Y.
	for _, r := range m.run.Injections {
		if r.Preflight == nil {
			continue
		}
		for _, w := range r.Preflight.Warnings {
			out = append(out, m.wrapStyled("  WARNING: "+w, m.styles.Warn)...)
		}
	}
	return out
}

// outcome is what happens next: a dry run's plan, why the run stopped here,
// or what Y is waiting for.
func (m *blastScreen) outcome() []string {
	st, s := m.styles, m.run
	switch {
	case s.VerdictSet && s.Verdict == gamedays.VerdictNone:
		out := []string{"", st.Bold.Render("Dry run") + ": " + s.VerdictMsg + ". What each injection would do:"}
		for _, r := range s.Injections {
			if r.Preflight == nil {
				continue
			}
			for _, line := range r.Preflight.Plan {
				out = append(out, "  "+r.Key.Attack+" on "+r.Key.Member+": "+line)
			}
		}
		return out
	case s.VerdictSet:
		// The run ended here: a target did not resolve or a preflight failed.
		return append([]string{""}, m.wrapStyled("Stopped before anything was injected: "+s.VerdictMsg, st.Bad)...)
	case s.canConfirm() && !m.mayConfirm():
		return []string{"", st.Muted.Render("Every preflight passed. The facilitator confirms the blast radius.")}
	case s.canConfirm():
		return []string{"", st.Warn.Render("Every preflight passed. Press Y to confirm this blast radius exactly as shown.")}
	case !s.Confirmed:
		return []string{"", st.Muted.Render("Waiting for preflight results…")}
	}
	return nil
}

// paramText lists an attack's params in a stable order.
func paramText(p map[string]string) string {
	if len(p) == 0 {
		return ""
	}
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(" (")
	for i, k := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + "=" + p[k])
	}
	b.WriteString(")")
	return b.String()
}

// preflightCell summarises every attack's preflight on one member, from
// its injections (preflights).
func (m *blastScreen) preflightCell(rows []*attackRow) cell {
	st := m.styles
	var parts []string
	bad, pending := false, false
	for _, r := range rows {
		if r.Preflight == nil && m.run.preflightOf(r) != nil {
			continue // a later stage of an attack preflighted at its first
		}
		p := r.Preflight
		switch {
		case p == nil:
			pending = true
			parts = append(parts, r.Key.Attack+": checking…")
		case p.OK:
			parts = append(parts, r.Key.Attack+": ok")
		default:
			bad = true
			parts = append(parts, r.Key.Attack+": FAILED "+p.Msg)
		}
	}
	switch {
	case bad:
		return cs(strings.Join(parts, "; "), st.Bad)
	case pending:
		return cs(strings.Join(parts, "; "), st.Muted)
	}
	return cs(strings.Join(parts, "; "), st.OK)
}

// budgetView prices the planned blast.
func (m *blastScreen) budgetView() []string {
	st, rb := m.styles, m.cfg.Runbook
	if rb == nil || rb.SLO == nil || m.redact {
		return nil
	}
	title := st.Bold.Render("Error budget") + fmt.Sprintf(" (SLO %s over %s): ", runbook.FormatValue(rb.SLO.Objective, runbook.UnitRatio), runbook.FormatDuration(rb.SLO.Window))
	if !m.budget.known {
		return []string{"", title + st.Muted.Render("asking how much is left…")}
	}
	resolved, selected := map[string]int{}, map[string]int{}
	for _, mr := range m.run.members() {
		resolved[mr.target]++
		if mr.selected {
			selected[mr.target]++
		}
	}
	b, _ := gamedays.PlanBudget(rb, resolved, selected, m.budget.left)
	line := b.String()
	style := st.OK
	if b.Warn {
		style = st.Bad
		line = "WARNING: " + line
	}
	out := append([]string{""}, m.wrapStyled(title+line, style)...)
	if m.budget.err != "" {
		out = append(out, m.wrapStyled("the budget left is unknown ("+m.budget.err+"); priced against the whole budget", st.Warn)...)
	}
	return out
}

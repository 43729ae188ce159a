package ui

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/ui/keys"
)

// Rows the frame takes around the body: a two-line header, the phase bar,
// the status line and the footer.
const frameRows = 5

func (m *model) bodyHeight() int { return max(0, m.sh.h-frameRows) }

// View renders the frame and the screen of the current phase.
func (m *model) View() string {
	w, h := m.sh.w, m.sh.h
	if w == 0 || h == 0 {
		return ""
	}
	if w < minWidth || h < minHeight {
		return m.tooSmall()
	}
	var b strings.Builder
	b.Grow(w * h * 2)
	lines := make([]string, 0, h)
	lines = append(lines, m.header()...)
	lines = append(lines, m.phaseBar())
	lines = append(lines, fit(m.body(), w, m.bodyHeight())...)
	lines = append(lines, m.statusLine(), m.footer())
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(pad(l, w))
	}
	return b.String()
}

// fit makes exactly h lines.
func fit(lines []string, w, h int) []string {
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return lines
}

func (m *model) tooSmall() string {
	st := m.sh.st
	s := m.sh.s
	msg := []string{
		st.Bad.Render("terminal too small"),
		fmt.Sprintf("%d×%d; the console needs at least %d×%d", m.sh.w, m.sh.h, minWidth, minHeight),
		"phase " + s.phase.String() + "  " + tplus(s.elapsed(m.sh.now)),
		"injected: " + injectedText(s),
		st.Abort.Render("ctrl+x ABORT") + "  ctrl+c abort and quit",
	}
	if m.flash != "" {
		msg = append(msg, m.flash)
	}
	for i, l := range msg {
		msg[i] = ansi.Truncate(l, max(0, m.sh.w), "")
	}
	return strings.Join(fit(msg, m.sh.w, min(len(msg), m.sh.h)), "\n")
}

func injectedText(s *runState) string {
	inj := s.injected()
	switch len(inj) {
	case 0:
		return "nothing"
	case 1:
		return inj[0]
	}
	return fmt.Sprintf("%s (+%d more)", inj[0], len(inj)-1)
}

func (m *model) header() []string {
	st, s, cfg := m.sh.st, m.sh.s, m.sh.cfg
	name := "game day"
	if cfg.Runbook != nil {
		name = cfg.Runbook.Name
	}
	right := ""
	if s.runID != "" {
		right = "run " + s.runID
	}
	if cfg.Version != "" {
		right += "  gameday " + cfg.Version
	}
	left := st.Title.Render("GAMEDAY") + " " + st.Bold.Render(name)
	if cfg.File != "" {
		left += st.Muted.Render("  " + cfg.File)
	}
	line1 := spread(left, st.Muted.Render(right), m.sh.w)

	phase := strings.ToUpper(s.phase.String())
	if s.ended {
		phase += " (ENDED)"
	}
	phaseStyle := st.Phase
	if s.phase == gamedays.PhaseAborted {
		phaseStyle = st.Bad
	}
	inj := injectedText(s)
	injStyle := st.Muted
	if len(s.injected()) > 0 {
		injStyle = st.Warn
	}
	line2 := phaseStyle.Render(phase) + "  " + st.Bold.Render(tplus(s.elapsed(m.sh.now))) +
		"  injected: " + injStyle.Render(inj) + "  verdict: " + m.verdictSoFar()
	return []string{line1, line2}
}

// spread puts left and right on one line of width w.
func spread(left, right string, w int) string {
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 1 {
		return left
	}
	return left + strings.Repeat(" ", gap) + right
}

// verdictSoFar is the final verdict once known, else how the checks are
// doing now.
func (m *model) verdictSoFar() string {
	st, s, data := m.sh.st, m.sh.s, m.sh.m
	if s.verdictSet {
		switch s.verdict {
		case gamedays.VerdictHeld:
			return st.OK.Render("HELD")
		case gamedays.VerdictNone:
			return st.Muted.Render("none (dry run)")
		}
		return st.Bad.Render(strings.ToUpper(string(s.verdict)))
	}
	if s.aborting {
		return st.Bad.Render("ABORTING")
	}
	var rs []metrics.Result
	what := ""
	switch s.phase {
	case gamedays.PhaseBaseline:
		rs, what = data.steady, "steady state"
	case gamedays.PhaseRun, gamedays.PhaseObserve:
		rs, what = data.expect, "hypothesis"
	default:
		return st.Muted.Render("not yet")
	}
	if len(rs) == 0 {
		return st.Muted.Render("not yet")
	}
	broken, nodata := 0, 0
	for _, r := range rs {
		switch r.Verdict {
		case metrics.Broken:
			broken++
		case metrics.NoData:
			nodata++
		}
	}
	switch {
	case broken > 0:
		return st.Bad.Render(fmt.Sprintf("%s breaking (%d of %d)", what, broken, len(rs)))
	case nodata == len(rs):
		return st.Muted.Render(what + ": no data yet")
	}
	return st.OK.Render(what + " holding so far")
}

var barPhases = []gamedays.Phase{gamedays.PhaseBaseline, gamedays.PhaseHypothesis, gamedays.PhaseBlastRadius,
	gamedays.PhaseRun, gamedays.PhaseObserve, gamedays.PhaseConclude}

// phaseBar marks each phase done (✓), current (●), next (○), or where an
// abort struck or a blocked baseline stopped the run (✗).
func (m *model) phaseBar() string {
	st, s := m.sh.st, m.sh.s
	cur := s.phase
	abortedIn := gamedays.Phase(-1)
	if s.verdict == gamedays.VerdictBlocked {
		abortedIn = gamedays.PhaseBaseline
	}
	if cur == gamedays.PhaseAborted {
		for _, p := range barPhases {
			if !s.phaseAt[p].IsZero() {
				abortedIn = p
			}
		}
	}
	var parts []string
	for _, p := range barPhases {
		var part string
		switch {
		case p == abortedIn:
			part = st.Bad.Render("✗ " + p.String())
		case abortedIn >= 0 && p > abortedIn:
			part = st.Muted.Render("· " + p.String())
		case abortedIn >= 0 || p < cur || cur == gamedays.PhaseDone || (s.ended && p == cur):
			part = st.OK.Render("✓ " + p.String())
		case p == cur:
			part = st.Selected.Render("● " + p.String())
		default:
			part = st.Muted.Render("○ " + p.String())
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, st.Muted.Render(" › "))
}

// statusLine shows the note being typed, else the last message.
func (m *model) statusLine() string {
	st := m.sh.st
	if m.modal == keys.ModalNote {
		return st.Accent.Render(noteName(m.noteKind)+":") + " " + m.input.View()
	}
	if m.flash != "" {
		return st.Warn.Render(m.flash)
	}
	return ""
}

// footer is the keys that matter now, with ABORT always at the right.
func (m *model) footer() string {
	st := m.sh.st
	abort := st.Abort.Render("ctrl+x ABORT")
	h := m.help
	h.Width = max(0, m.sh.w-ansi.StringWidth(abort)-2)
	return spread(h.ShortHelpView(keys.Help(m.sh.keys, m.keyContext())), abort, m.sh.w)
}

// body is the screen of the current phase, or the open modal.
func (m *model) body() []string {
	bh := m.bodyHeight()
	switch m.modal {
	case keys.ModalTimeline:
		return m.timelineView(bh)
	case keys.ModalHelp:
		return m.helpView()
	}
	out := m.topLines()
	if m.showsCharts() {
		out = append(out, m.chartsView(bh-len(out))...)
	}
	return out
}

// banner is the loudest thing that is true now: an abort, metrics blind, a
// guardrail about to fire.
func (m *model) banner() []string {
	st, s, data := m.sh.st, m.sh.s, m.sh.m
	w := m.sh.w
	var out []string
	switch {
	case s.aborting && !s.ended:
		out = append(out, st.AbortBanner.Render(ansi.Truncate(" ABORTING: rolling everything back ("+s.abortSource+") ", w, "…")))
	case m.abortSent && !s.aborting && !s.ended:
		out = append(out, st.AbortBanner.Render(" ABORT sent: waiting for the engine to stop and roll back "))
	}
	if data.blind.Fired && !s.ended {
		msg := " METRICS BLIND: " + data.blind.Reason
		if rb := m.sh.cfg.Runbook; rb != nil && rb.Guardrails.MetricsBlind > 0 {
			msg += "; aborts at " + runbook.FormatDuration(rb.Guardrails.MetricsBlind)
		}
		out = append(out, st.Banner.Render(ansi.Truncate(msg+" ", w, "…")))
	}
	return out
}

// topLines is the screen above the charts.
func (m *model) topLines() []string {
	out := m.banner()
	switch m.sh.s.phase {
	case gamedays.PhaseBaseline:
		out = append(out, m.baselineView()...)
	case gamedays.PhaseHypothesis:
		out = append(out, m.hypothesisView()...)
	case gamedays.PhaseBlastRadius:
		out = append(out, m.blastView()...)
	case gamedays.PhaseRun, gamedays.PhaseObserve:
		out = append(out, m.attacksView()...)
	case gamedays.PhaseAborted:
		out = append(out, m.abortView()...)
	case gamedays.PhaseConclude, gamedays.PhaseDone:
		out = append(out, m.concludeView()...)
	}
	return out
}

// cell is one table cell: plain text and the style it is shown in.
type cell struct {
	text  string
	style *lipgloss.Style
}

func c(text string) cell                     { return cell{text: text} }
func cs(text string, st lipgloss.Style) cell { return cell{text: text, style: &st} }
func (x cell) render(w int) string {
	t := ansi.Truncate(x.text, w, "…")
	t += strings.Repeat(" ", max(0, w-ansi.StringWidth(t)))
	if x.style != nil {
		return x.style.Render(t)
	}
	return t
}

// table lays rows out in columns: each column as wide as its widest cell,
// at most its entry in widths; the last column takes the rest of the line.
func (m *model) table(head []string, widths []int, rows [][]cell) []string {
	st := m.sh.st
	w := m.sh.w
	ws := make([]int, len(head))
	used := 0
	for i, h := range head {
		if i == len(head)-1 {
			ws[i] = max(1, w-used-(len(head)-1))
			break
		}
		ws[i] = ansi.StringWidth(h)
		for _, r := range rows {
			if i < len(r) && len(r) > 1 {
				ws[i] = max(ws[i], ansi.StringWidth(r[i].text))
			}
		}
		ws[i] = min(ws[i], widths[i])
		used += ws[i]
	}
	var out []string
	hc := make([]string, len(head))
	for i, h := range head {
		hc[i] = st.Muted.Render(cell{text: h}.render(ws[i]))
	}
	out = append(out, strings.Join(hc, " "))
	for _, r := range rows {
		parts := make([]string, len(head))
		for i := range head {
			x := cell{}
			if i < len(r) {
				x = r[i]
			}
			parts[i] = x.render(ws[i])
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func (m *model) baselineView() []string {
	st, s, data, rb := m.sh.st, m.sh.s, m.sh.m, m.sh.cfg.Runbook
	var out []string
	if rb == nil {
		return out
	}
	if s.steadyKnown {
		if s.steadyOK {
			out = append(out, st.OK.Render("Steady state holds.")+" The hypothesis comes next.")
		} else {
			out = append(out, st.Bad.Render("BLOCKED: the steady state does not hold, so nothing will be injected."))
		}
		rows := [][]cell{}
		for _, c := range s.steady {
			rows = append(rows, []cell{cs(held(c.Held, c.NoData), m.heldStyle(c.Held, c.NoData)), cell{text: c.Text}})
		}
		return append(out, m.table([]string{"result", "evidence"}, []int{10}, rows)...)
	}
	left := rb.Baseline.Duration - m.sh.now.Sub(s.phaseAt[gamedays.PhaseBaseline])
	if s.phaseAt[gamedays.PhaseBaseline].IsZero() {
		left = rb.Baseline.Duration
	}
	out = append(out, st.Bold.Render("Measuring the steady state")+fmt.Sprintf(": %s left of %s; nothing is injected yet.",
		clockDur(left), runbook.FormatDuration(rb.Baseline.Duration)))
	rows := [][]cell{}
	for i, ck := range rb.Baseline.SteadyState {
		unit := unitOf(rb, ck.Panel)
		status, value := cs("waiting", st.Muted), "no data yet"
		if i < len(data.steady) {
			r := data.steady[i]
			value = r.Worst.Statistic + " " + runbook.FormatValue(r.Worst.Value, unit)
			switch r.Verdict {
			case metrics.Held:
				status = cs("holding", st.OK)
			case metrics.Broken:
				status = cs("BREAKING", st.Bad)
			default:
				status, value = cs("no data", st.Warn), "no data yet"
			}
		}
		rows = append(rows, []cell{c(ck.Panel), c(ck.Threshold.Text), status, c(value)})
	}
	return append(out, m.table([]string{"panel", "must hold", "so far", "value"}, []int{14, 18, 10}, rows)...)
}

func unitOf(rb *runbook.Runbook, panel string) runbook.Unit {
	if rb == nil {
		return runbook.UnitNone
	}
	if p, ok := rb.Panel(panel); ok {
		return p.Unit
	}
	return runbook.UnitNone
}

func held(ok, nodata bool) string {
	switch {
	case nodata:
		return "NO DATA"
	case ok:
		return "held"
	}
	return "BROKEN"
}

func (m *model) heldStyle(ok, nodata bool) lipgloss.Style {
	switch {
	case nodata:
		return m.sh.st.Warn
	case ok:
		return m.sh.st.OK
	}
	return m.sh.st.Bad
}

func (m *model) hypothesisView() []string {
	st, s := m.sh.st, m.sh.s
	out := []string{st.Bold.Render("Hypothesis")}
	for _, l := range wrap(s.statement, m.sh.w-2) {
		out = append(out, "  "+l)
	}
	out = append(out, "")
	rows := [][]cell{}
	for _, c := range s.expect {
		base := "-"
		if !math.IsNaN(float64(c.Baseline)) {
			base = s.format(c.Panel, float64(c.Baseline))
		}
		rows = append(rows, []cell{cell{text: c.Panel}, cell{text: c.Threshold}, cell{text: base}, cell{text: c.Text}})
	}
	out = append(out, m.table([]string{"panel", "expect", "baseline", "resolved"}, []int{14, 20, 10}, rows)...)
	out = append(out, "")
	out = append(out, m.notesOf("Predictions", "prediction", "none yet: press p to add one")...)
	out = append(out, "", st.Muted.Render("Press enter to continue to the blast radius. Nothing is injected before it is confirmed."))
	return out
}

// notesOf lists the notes of one kind, newest last.
func (m *model) notesOf(title, kind, empty string) []string {
	st, s := m.sh.st, m.sh.s
	out := []string{st.Bold.Render(title)}
	n := 0
	for _, nt := range s.notes {
		if nt.kind != kind {
			continue
		}
		n++
		who := ""
		if nt.author != "" {
			who = " (" + nt.author + ")"
		}
		out = append(out, "  "+st.Muted.Render(tplus(s.elapsed(nt.at)))+" "+nt.text+st.Muted.Render(who))
	}
	if n == 0 {
		out = append(out, "  "+st.Muted.Render(empty))
	}
	return out
}

func (m *model) blastView() []string {
	st, s, rb := m.sh.st, m.sh.s, m.sh.cfg.Runbook
	out := []string{st.Bold.Render("Blast radius") + ": every resolved member, what is selected, and preflight results."}
	if s.confirmed {
		out = append(out, st.OK.Render("Confirmed."))
	} else {
		out = append(out, st.Warn.Render("Nothing runs until you press Y."))
	}
	rows := [][]cell{}
	for _, mr := range s.members {
		sel := cs("○ not selected", st.Muted)
		if mr.selected {
			sel = cs("● SELECTED", st.Warn)
		}
		pf := cs("", st.Muted)
		if mr.selected {
			pf = m.preflightCell(mr.member.ID)
		}
		addr := mr.member.Addr
		if addr == "" {
			addr = "-"
		}
		rows = append(rows, []cell{c(mr.target), c(mr.member.ID), c(addr), sel, pf})
	}
	out = append(out, m.table([]string{"target", "member", "address", "selection", "preflight"}, []int{14, 22, 20, 16}, rows)...)
	var sum []string
	if rb != nil {
		for _, t := range rb.Targets {
			total, chosen := 0, 0
			for _, mr := range s.members {
				if mr.target == t.Name {
					total++
					if mr.selected {
						chosen++
					}
				}
			}
			if total == 0 {
				continue
			}
			part := fmt.Sprintf("%s: %d of %d selected", t.Name, chosen, total)
			if seed, ok := s.seeds[t.Name]; ok {
				part += fmt.Sprintf(" (seed %d)", seed)
			}
			sum = append(sum, part)
		}
	}
	if len(sum) > 0 {
		out = append(out, "", strings.Join(sum, "; "))
	}
	if rb != nil {
		out = append(out, "", st.Bold.Render("Plan"))
		for _, a := range rb.Attacks {
			out = append(out, fmt.Sprintf("  %s: %s on %s from +%s for %s%s", a.Name, a.Kind, a.Target,
				runbook.FormatDuration(a.StartAfter), runbook.FormatDuration(a.Duration), paramText(a.Params)))
		}
	}
	switch {
	case m.canConfirm():
		out = append(out, "", st.Warn.Render("Every preflight passed. Press Y to confirm this blast radius exactly as shown."))
	case !s.confirmed:
		out = append(out, "", st.Muted.Render("Waiting for preflight results…"))
	}
	return out
}

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

// preflightCell summarises every attack's preflight on one member.
func (m *model) preflightCell(member string) cell {
	st, s := m.sh.st, m.sh.s
	var parts []string
	bad, pending := false, false
	for _, r := range s.attacks {
		if r.member != member {
			continue
		}
		p := s.preflight[injKey(r.attack, r.member)]
		switch {
		case !p.done:
			pending = true
			parts = append(parts, r.attack+": checking…")
		case p.ok:
			parts = append(parts, r.attack+": ok")
		default:
			bad = true
			parts = append(parts, r.attack+": FAILED "+p.msg)
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

func (m *model) attacksView() []string {
	st, s, rb := m.sh.st, m.sh.s, m.sh.cfg.Runbook
	runAt := s.phaseAt[gamedays.PhaseRun]
	var out []string
	if rb != nil && !runAt.IsZero() {
		left := runAt.Add(rb.Observe.Duration).Sub(m.sh.now)
		out = append(out, st.Bold.Render("Attacks")+fmt.Sprintf(": observe ends in %s", clockDur(left)))
	}
	rows := [][]cell{}
	maxRows := max(2, m.bodyHeight()/4)
	for i, r := range s.attacks {
		if i == maxRows {
			rows = append(rows, []cell{cs(fmt.Sprintf("… %d more", len(s.attacks)-i), st.Muted)})
			break
		}
		rows = append(rows, []cell{c(r.attack), c(r.member), m.stateCell(r), c(m.when(r)), m.outputCell(r)})
	}
	out = append(out, m.table([]string{"attack", "member", "state", "when", "last output"}, []int{16, 18, 16, 16}, rows)...)
	if g := m.guardText(); g != "" {
		out = append(out, g)
	}
	return out
}

func (m *model) stateCell(r *attackRow) cell {
	st := m.sh.st
	switch r.state {
	case attActive, attInjecting:
		return cs(r.state.String(), st.Warn)
	case attInjectFailed, attRollbackFailed:
		return cs(r.state.String(), st.Bad)
	case attReverted:
		return cs("✓ reverted", st.OK)
	}
	return cs(r.state.String(), st.Muted)
}

// outputCell is the last output line, red when it explains a failure.
func (m *model) outputCell(r *attackRow) cell {
	if r.state == attInjectFailed || r.state == attRollbackFailed {
		return cs(r.last, m.sh.st.Bad)
	}
	return c(r.last)
}

// when is the countdown of one attack on one member.
func (m *model) when(r *attackRow) string {
	rb, s := m.sh.cfg.Runbook, m.sh.s
	runAt := s.phaseAt[gamedays.PhaseRun]
	if rb == nil || runAt.IsZero() {
		return ""
	}
	var a runbook.Attack
	for _, x := range rb.Attacks {
		if x.Name == r.attack {
			a = x
		}
	}
	start, end := runAt.Add(a.StartAfter), runAt.Add(a.StartAfter+a.Duration)
	switch r.state {
	case attPending:
		return "starts in " + clockDur(start.Sub(m.sh.now))
	case attActive, attInjecting:
		return "ends in " + clockDur(end.Sub(m.sh.now))
	case attReverted:
		return "at " + tplus(s.elapsed(r.revertedAt))
	}
	return ""
}

// guardText is the guardrails' live state, loud when one is breaching.
func (m *model) guardText() string {
	st, data := m.sh.st, m.sh.m
	if len(data.guards) == 0 {
		return ""
	}
	var parts []string
	bad := false
	for _, g := range data.guards {
		t := g.Check.Panel + " " + g.Check.Threshold.Text
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

func (m *model) abortView() []string {
	st, s, cfg := m.sh.st, m.sh.s, m.sh.cfg
	out := []string{st.Bad.Render("ABORTED") + ": " + s.abortMsg}
	rows := [][]cell{}
	reverted, total, failed := 0, 0, 0
	for _, r := range s.attacks {
		if r.state == attPending {
			continue
		}
		total++
		switch r.state {
		case attReverted:
			reverted++
		case attRollbackFailed:
			failed++
		}
		rows = append(rows, []cell{c(r.attack), c(r.member), m.stateCell(r), m.outputCell(r)})
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
	case failed > 0 || len(s.failed) > 0:
		n := max(failed, len(s.failed))
		out = append(out, st.Bad.Render(fmt.Sprintf("ROLLBACK INCOMPLETE on %d: something may still be applied.", n)))
		out = append(out, m.wrapStyled("Next: run `gameday recover "+runDir+"` now, and check the hosts named above by hand.", st.Bad)...)
	case !s.ended:
		out = append(out, st.Warn.Render("Rolling back… the console stays until every rollback has answered."))
	default:
		out = append(out, st.OK.Render("Everything injected was reverted."))
		out = append(out, m.wrapStyled("Next: `gameday report "+runDir+"` builds the report. Press q to leave.", lipgloss.NewStyle())...)
	}
	return out
}

func (m *model) concludeView() []string {
	st, s, cfg := m.sh.st, m.sh.s, m.sh.cfg
	var out []string
	switch {
	case !s.verdictSet:
		out = append(out, st.Muted.Render("Judging the hypothesis…"))
	case s.verdict == gamedays.VerdictHeld:
		out = append(out, st.OK.Render("Verdict: HELD")+"  "+s.verdictMsg)
	case s.verdict == gamedays.VerdictNone:
		out = append(out, st.Bold.Render("Dry run")+"  "+s.verdictMsg)
	default:
		out = append(out, st.Bad.Render("Verdict: "+strings.ToUpper(string(s.verdict))))
		for _, l := range wrap(s.verdictMsg, m.sh.w-2) {
			out = append(out, "  "+l)
		}
	}
	evidence := s.results
	if s.verdict == gamedays.VerdictBlocked {
		evidence = s.steady
	}
	if len(evidence) > 0 {
		rows := [][]cell{}
		for _, c := range evidence {
			rows = append(rows, []cell{cs(held(c.Held, c.NoData), m.heldStyle(c.Held, c.NoData)), cell{text: c.Text}})
		}
		out = append(out, "")
		out = append(out, m.table([]string{"result", "evidence"}, []int{10}, rows)...)
	}
	out = append(out, "")
	out = append(out, m.notesOf("Findings", "finding", "none yet: press f to add one")...)
	out = append(out, m.notesOf("Action items", "action", "none yet: press a to add one")...)
	runDir := cfg.RunDir
	if runDir == "" {
		runDir = "RUN_DIR"
	}
	out = append(out, "")
	if s.ended {
		out = append(out, m.wrapStyled("The game day has ended. Report: `gameday report "+runDir+"`. Press q to leave.", st.Muted)...)
	} else {
		out = append(out, m.wrapStyled("Add findings and action items now; enter or q finishes the game day and closes the journal.", st.Muted)...)
	}
	return out
}

func (m *model) timelineView(h int) []string {
	s := m.sh.s
	title := m.sh.st.Bold.Render("Timeline") + m.sh.st.Muted.Render(fmt.Sprintf(" (%d entries", len(s.timeline)))
	if s.tlTotal > len(s.timeline) {
		title += m.sh.st.Muted.Render(fmt.Sprintf("; %d older ones are in the journal", s.tlTotal-len(s.timeline)))
	}
	title += m.sh.st.Muted.Render(")")
	vp := m.timeline
	vp.Height = max(0, h-1)
	vp.Width = m.sh.w
	return append([]string{title}, strings.Split(vp.View(), "\n")...)
}

func (m *model) timelineLine(e entry, w int) string {
	st := m.sh.st
	text := e.text
	if e.count > 1 {
		text += fmt.Sprintf(" (×%d)", e.count)
	}
	var style lipgloss.Style
	switch e.level {
	case lvOK:
		style = st.OK
	case lvWarn:
		style = st.Warn
	case lvBad:
		style = st.Bad
	case lvNote:
		style = st.Accent
	default:
		style = lipgloss.NewStyle()
	}
	prefix := tplus(m.sh.s.elapsed(e.at)) + " "
	return st.Muted.Render(prefix) + style.Render(ansi.Truncate(text, max(0, w-len(prefix)), "…"))
}

func (m *model) helpView() []string {
	h := m.help
	h.ShowAll = true
	km := m.sh.keys
	groups := [][]key.Binding{
		{km.Abort, km.AbortQuit, km.Next, km.Confirm},
		{km.Note, km.Predict, km.Finding, km.ActionItem},
		{km.Timeline, km.Up, km.Down, km.PageUp, km.PageDown},
		{km.Series, km.Help, km.Leave, km.Cancel},
	}
	h.Width = m.sh.w
	out := []string{m.sh.st.Bold.Render("All keys"), ""}
	// Two groups a row fit 80 columns; wider terminals take all four.
	per := 2
	if m.sh.w >= 140 {
		per = len(groups)
	}
	for i := 0; i < len(groups); i += per {
		out = append(out, strings.Split(h.FullHelpView(groups[i:min(len(groups), i+per)]), "\n")...)
		out = append(out, "")
	}
	return out
}

// wrapStyled wraps text to the screen and styles each line.
func (m *model) wrapStyled(text string, st lipgloss.Style) []string {
	lines := wrap(text, m.sh.w)
	for i, l := range lines {
		lines[i] = st.Render(strings.TrimRight(l, " "))
	}
	return lines
}

// wrap breaks text into lines of at most w cells at spaces.
func wrap(text string, w int) []string {
	if text == "" {
		return nil
	}
	return strings.Split(lipgloss.NewStyle().Width(max(1, w)).Render(text), "\n")
}

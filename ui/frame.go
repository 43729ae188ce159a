package ui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/ui/keys"
)

// Rows the frame takes around the body: a two-line header, the phase bar,
// the status line and the footer.
const frameRows = 5

func (m *model) bodyHeight() int {
	rows := frameRows
	if m.showsRoles() {
		rows++
	}
	return max(0, m.height-rows)
}

// View renders the frame and the screen of the current phase.
func (m *model) View() string {
	w, h := m.width, m.height
	if w == 0 || h == 0 {
		return ""
	}
	if w < minWidth || h < minHeight {
		return m.tooSmall()
	}
	// The screen's lines are asked for several times in a frame (the body,
	// whether charts fit, the footer's keys); they are built once.
	m.inFrame, m.frameTop = true, nil
	defer func() { m.inFrame, m.frameTop = false, nil }()
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
		b.WriteString(pad(oneLine(l), w))
	}
	return b.String()
}

// oneLine keeps a frame row to one terminal row: a multi-line error from a
// host reads joined rather than pushing the frame off the screen.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	// A tab is as wide as the terminal decides; a space is one cell.
	return strings.NewReplacer("\r", " ", "\n", " ", "\t", " ").Replace(s)
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

// tooSmall still shows the phase, what is injected, and the abort key.
func (m *model) tooSmall() string {
	st := m.styles
	s := m.run
	msg := []string{
		st.Bad.Render("terminal too small"),
		fmt.Sprintf("%d×%d; the console needs at least %d×%d", m.width, m.height, minWidth, minHeight),
		"phase " + s.Phase.String() + "  " + tplus(s.Elapsed(m.now)),
		"injected: " + m.injectedText(),
		st.Abort.Render("ctrl+x ABORT") + "  ctrl+c abort and quit",
	}
	if m.flash != "" {
		msg = append(msg, m.flash)
	}
	for i, l := range msg {
		msg[i] = ansi.Truncate(l, max(0, m.width), "")
	}
	return strings.Join(fit(msg, m.width, min(len(msg), m.height)), "\n")
}

// injectedText is what may be in effect now, for the header.
func (m *model) injectedText() string {
	if m.redact {
		return "hidden: this is a drill"
	}
	inj := m.run.injected()
	switch len(inj) {
	case 0:
		return "nothing"
	case 1:
		return inj[0]
	}
	return fmt.Sprintf("%s (+%d more)", inj[0], len(inj)-1)
}

// injectedMembers is what is injected named by member only, longest
// first, for a header too narrow for the attacks' names.
func (m *model) injectedMembers() []string {
	if m.redact {
		return nil
	}
	var ms []string
	for _, r := range m.run.Active() {
		if !slices.Contains(ms, r.Key.Member) {
			ms = append(ms, r.Key.Member)
		}
	}
	switch len(ms) {
	case 0:
		return nil
	case 1:
		return ms[:1]
	}
	return []string{fmt.Sprintf("%s (+%d more)", ms[0], len(ms)-1), fmt.Sprintf("%s +%d", ms[0], len(ms)-1), fmt.Sprintf("%d hosts", len(ms))}
}

// header is the runbook, the run, the phase, T+, what is injected and the
// verdict so far.
func (m *model) header() []string {
	st, s, cfg := m.styles, m.run, m.cfg
	name := "game day"
	if cfg.Runbook != nil {
		name = cfg.Runbook.Name
	}
	run, version, file := "", "", ""
	if s.RunID != "" {
		run = "run " + s.RunID
	}
	if cfg.Version != "" {
		version = "gameday " + cfg.Version
	}
	if cfg.File != "" {
		file = "  " + cfg.File
	}
	left := st.Title.Render("GAMEDAY") + " " + st.Bold.Render(name)
	// What does not fit gives way whole, least useful first, so a run's
	// name is never cut mid-word: the version, then the file, then the run.
	line1 := left
	for _, try := range [][3]string{{file, run, version}, {file, run, ""}, {"", run, ""}, {"", "", ""}} {
		right := strings.TrimSpace(try[1] + "  " + try[2])
		if l := left + st.Muted.Render(try[0]); ansi.StringWidth(l)+ansi.StringWidth(right)+1 <= m.width || try == [3]string{} {
			line1 = spread(l, st.Muted.Render(right), m.width)
			break
		}
	}

	phase := strings.ToUpper(s.Phase.String()) + s.stageTag()
	if s.Ended {
		phase += " (ENDED)"
	}
	// A rehearsal's minutes are not the runbook's: the room must not read
	// its clock and charts as a full-length run.
	if f := s.TimeScale; f > 0 && f != 1 {
		phase += fmt.Sprintf(" · REHEARSAL ×%g", f)
	}
	phaseStyle := st.Phase
	if s.Phase == gamedays.PhaseAborted {
		phaseStyle = st.Bad
	}
	inj := m.injectedText()
	injStyle := st.Muted
	if len(s.injected()) > 0 {
		injStyle = st.Warn
	}
	lead := phaseStyle.Render(phase) + "  " + st.Bold.Render(tplus(s.Elapsed(m.now))) + "  injected: "
	verdict := "  verdict: " + m.verdictSoFar()
	// On a narrow screen what is injected gives way, so the verdict so far
	// is always on screen.
	if room := m.width - ansi.StringWidth(lead) - ansi.StringWidth(verdict); ansi.StringWidth(inj) > room {
		// Where the attack's name does not fit, the hosts it is on do:
		// which machine is hurt matters more than what the fault is called.
		cut := ansi.Truncate(inj, max(1, room), "…")
		inj = cut
		for _, short := range m.injectedMembers() {
			if ansi.StringWidth(short) <= room {
				inj = short
				break
			}
		}
	}
	line2 := lead + injStyle.Render(inj) + verdict
	if m.showsRoles() {
		return []string{line1, line2, m.rolesLine()}
	}
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
	st, s := m.styles, m.run
	if s.VerdictSet {
		switch s.Verdict {
		case gamedays.VerdictHeld:
			return st.OK.Render("HELD")
		case gamedays.VerdictNone:
			return st.Muted.Render("none (dry run)")
		}
		return st.Bad.Render(strings.ToUpper(string(s.Verdict)))
	}
	if s.Abort != nil {
		return st.Bad.Render("ABORTING")
	}
	var rs []gamedays.CheckResult
	what := ""
	live := s.live()
	switch s.Phase {
	case gamedays.PhaseBaseline:
		rs, what = live.Steady, "steady state"
	case gamedays.PhaseRun, gamedays.PhaseObserve:
		rs, what = live.Expect, "hypothesis"
	default:
		return st.Muted.Render("not yet")
	}
	if len(rs) == 0 {
		return st.Muted.Render("not yet")
	}
	broken, nodata := 0, 0
	for _, r := range rs {
		switch {
		case r.NoData:
			nodata++
		case !r.Held:
			broken++
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

// barPhases are the phases the bar shows, in order.
var barPhases = []gamedays.Phase{gamedays.PhaseBaseline, gamedays.PhaseHypothesis, gamedays.PhaseBlastRadius,
	gamedays.PhaseRun, gamedays.PhaseObserve, gamedays.PhaseConclude}

// phaseBar marks each phase done (✓), current (●), next (○), or where an
// abort struck or a blocked baseline stopped the run (✗).
func (m *model) phaseBar() string {
	st, s := m.styles, m.run
	cur := s.Phase
	abortedIn := gamedays.Phase(-1)
	if s.Verdict == gamedays.VerdictBlocked || s.Verdict == gamedays.VerdictAborted {
		abortedIn = cur // stopped where it stood: a blocked baseline, a failed preflight
	}
	if cur == gamedays.PhaseAborted {
		for _, p := range barPhases {
			if !s.PhaseAt[p].IsZero() {
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
		case abortedIn >= 0 || p < cur || cur == gamedays.PhaseDone || (s.Ended && p == cur):
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
	st := m.styles
	if m.modal == keys.ModalNote {
		return m.note.View()[0]
	}
	if m.flash != "" {
		return st.Warn.Render(m.flash)
	}
	return ""
}

// footer is the keys that matter now, with ABORT always at the right.
func (m *model) footer() string {
	st := m.styles
	abort := st.Abort.Render("ctrl+x ABORT")
	if m.guest != nil && !m.guest.who.Abort {
		// Said plainly, so nobody in a tense room presses a key that will
		// only be refused.
		abort = st.Muted.Render("abort: the facilitator or a safety officer")
	}
	room := max(0, m.width-ansi.StringWidth(abort)-2)
	return spread(m.fitKeys(m.permitted(m.ShortHelp()), room), abort, m.width)
}

// fitKeys shows as many whole keys as fit in w cells, in order, with "…"
// for those left out; "? all keys" stays last, since it is where the rest
// are. A key is never cut mid-word ("t timelin…"), and the abort key beside
// it never gives way.
func (m *model) fitKeys(bs []key.Binding, w int) string {
	h := m.footHelp
	h.Width = 0 // the fitting is done here, by whole keys
	var tail []key.Binding
	if n := len(bs); n > 0 && len(bs[n-1].Keys()) > 0 && len(m.keys.Help.Keys()) > 0 && bs[n-1].Keys()[0] == m.keys.Help.Keys()[0] {
		bs, tail = bs[:n-1], bs[n-1:]
	}
	sep := h.Styles.ShortSeparator.Render(h.ShortSeparator)
	for n := len(bs); n >= 0; n-- {
		var parts []string
		if n > 0 {
			parts = append(parts, h.ShortHelpView(bs[:n]))
		}
		if n < len(bs) {
			parts = append(parts, h.Styles.Ellipsis.Render(h.Ellipsis))
		}
		if len(tail) > 0 {
			parts = append(parts, h.ShortHelpView(tail))
		}
		if v := strings.Join(parts, sep); ansi.StringWidth(v) <= w {
			return v
		}
	}
	// Not even "? all keys" fits: what does is shown, cut.
	return ansi.Truncate(h.ShortHelpView(tail), w, "…")
}

// permitted leaves out, for a participant, the keys their role may not use;
// the server refuses them anyway (gamedays.Permit), so showing them would
// only invite a refusal.
func (m *model) permitted(bs []key.Binding) []key.Binding {
	// In a modal the keys are about the modal (enter saves the note).
	if m.guest == nil || m.modal != keys.ModalNone {
		return bs
	}
	out := make([]key.Binding, 0, len(bs))
	for _, b := range bs {
		if in, gated := m.intentOf(b); gated && gamedays.Permit(gamedays.Actor(m.guest.who), in) != nil {
			continue
		}
		out = append(out, b)
	}
	return out
}

// intentOf is the intent a help binding stands for, when a role may be
// refused it.
func (m *model) intentOf(b key.Binding) (gamedays.Intent, bool) {
	km := m.keys
	note := func(kind string) (gamedays.Intent, bool) {
		return gamedays.Intent{Type: gamedays.IntentNote, Kind: kind}, true
	}
	same := func(a key.Binding) bool {
		return len(a.Keys()) > 0 && len(b.Keys()) > 0 && a.Keys()[0] == b.Keys()[0]
	}
	switch {
	case same(km.Confirm):
		return gamedays.Intent{Type: gamedays.IntentConfirm}, true
	case same(km.ConfirmEach):
		return gamedays.Intent{Type: gamedays.IntentConfirmEach}, true
	case same(km.Next):
		return gamedays.Intent{Type: gamedays.IntentNext}, true
	case same(km.Hint):
		return note(gamedays.NoteHint)
	case same(km.Note):
		return note("note")
	case same(km.Predict):
		return note("prediction")
	case same(km.Finding):
		return note("finding")
	case same(km.ActionItem):
		return note("action")
	case same(km.Detected):
		return note(gamedays.NoteDetected)
	case same(km.Mitigated):
		return note(gamedays.NoteMitigated)
	}
	return gamedays.Intent{}, false
}

// body is the screen of the current phase, or the overlay open over it.
func (m *model) body() []string {
	bh := m.bodyHeight()
	switch m.modal {
	case keys.ModalTimeline:
		return m.timeline.View()
	case keys.ModalHelp:
		return m.keyHelp.View()
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
	st, s := m.styles, m.run
	w := m.width
	var out []string
	switch {
	case (s.Abort != nil) && !s.Ended:
		out = append(out, st.AbortBanner.Render(ansi.Truncate(" ABORTING: rolling everything back ("+s.Abort.Source+") ", w, "…")))
	case m.abortSent && !(s.Abort != nil) && !s.Ended:
		out = append(out, st.AbortBanner.Render(" ABORT sent: waiting for the engine to stop and roll back "))
	}
	if quiet := s.live().Quiet; quiet != "" && !s.Ended {
		msg := " NO NEW DATA: " + quiet
		if s.Blind != "" {
			msg = " METRICS BLIND: " + s.Blind
		}
		if rb := m.cfg.Runbook; rb != nil && rb.Guardrails.MetricsBlind > 0 {
			msg += "; aborts at " + runbook.FormatDuration(rb.Guardrails.MetricsBlind)
		}
		out = append(out, st.Banner.Render(ansi.Truncate(msg+" ", w, "…")))
	}
	return out
}

// topLines is the screen above the charts.
func (m *model) topLines() []string {
	if m.inFrame && m.frameTop != nil {
		return slices.Clip(m.frameTop) // callers append: never into the cache
	}
	out := m.banner()
	if s := m.screen(); s != nil {
		out = append(out, s.View()...)
	}
	if m.inFrame {
		m.frameTop = out
	}
	return slices.Clip(out)
}

// wrapStyled wraps text to the screen and styles each line.
func (m *page) wrapStyled(text string, st lipgloss.Style) []string {
	lines := wrap(text, m.width)
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

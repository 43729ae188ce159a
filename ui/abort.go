package ui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"

	"github.com/gameday/gameday/gamedays"
)

// abortScreen is the aborted phase: the rollback, member by member, until
// every one has answered, and what to do next.
type abortScreen struct {
	page
	scroll memberScroll
}

func (m *abortScreen) scroller() *memberScroll { return &m.scroll }

// ShortHelp: the room writes up what happened.
func (m *abortScreen) ShortHelp() []key.Binding {
	return []key.Binding{m.keys.Finding, m.keys.ActionItem}
}

// nextHint is what is left to do once the game day has ended: a
// participant's console has no run directory, and the facilitator's writes
// the report.
func (p *page) nextHint() string {
	if dir := p.cfg.RunDir; dir != "" {
		return "f and a write up findings and action items; e writes the report into " + dir + " (or run `gameday report " + dir + "` later); q leaves."
	}
	if p.may(gamedays.IntentNote, "finding") {
		return "f and a write up findings and action items; the facilitator writes the report; q leaves this console."
	}
	return "the facilitator writes the report; q leaves this console."
}

// View is the rollback per member, failures in red, and what to do next.
func (m *abortScreen) View() []string {
	st, s, cfg := m.styles, m.run, m.cfg
	msg := s.Abort.Msg
	if s.Ended {
		// "rolling back N injection(s)" was true when the abort began.
		msg, _, _ = strings.Cut(msg, "; rolling back")
	}
	out := []string{st.Bad.Render("ABORTED") + ": " + msg}
	if m.redact {
		// A responder sees no injection, so "nothing had been injected"
		// would be false; what was, and its rollback, stay hidden.
		out = append(out, m.wrapStyled("What was injected and how it is rolled back stay hidden in a drill; the facilitator's console shows both.", st.Muted)...)
		if s.Ended {
			out = append(out, m.wrapStyled("The game day has ended. Next: "+m.nextHint(), lipgloss.NewStyle())...)
		} else {
			out = append(out, st.Warn.Render("Rolling back…"))
		}
		return out
	}
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
	shown := touched
	if m.scroll.problems {
		shown = nil
		for _, r := range touched {
			if urgency(r) == 0 {
				shown = append(shown, r)
			}
		}
	}
	from, to := m.scroll.window(len(shown), max(2, m.height-12))
	rows := [][]cell{}
	for _, r := range shown[from:to] {
		rows = append(rows, []cell{c(r.Key.Attack), c(r.Key.Member), m.stateCell(r), m.outputCell(r)})
	}
	if total == 0 {
		out = append(out, st.OK.Render("Nothing had been injected; nothing to roll back."))
	} else {
		out = append(out, m.table([]string{"attack", "member", "rollback", "detail"}, []int{16, 18, 18}, rows)...)
		if f := m.scroll.footer(from, to, len(shown), total); f != "" {
			out = append(out, st.Muted.Render(f))
		}
		out = append(out, fmt.Sprintf("%d of %d reverted", reverted, total))
	}
	runDir := cfg.RunDir
	switch {
	case failed > 0 || len(s.Failed) > 0:
		n := max(failed, len(s.Failed))
		out = append(out, st.Bad.Render(fmt.Sprintf("ROLLBACK INCOMPLETE on %d: something may still be applied.", n)))
		if runDir == "" {
			out = append(out, m.wrapStyled("Next: the facilitator runs `gameday recover` and checks the hosts named above by hand.", st.Bad)...)
		} else {
			out = append(out, m.wrapStyled("Next: run `gameday recover "+runDir+"` now, and check the hosts named above by hand.", st.Bad)...)
		}
	case !s.Ended:
		out = append(out, st.Warn.Render("Rolling back… the console stays until every rollback has answered."))
	default:
		out = append(out, st.OK.Render("Everything injected was reverted."))
		out = append(out, m.wrapStyled("Next: "+m.nextHint(), lipgloss.NewStyle())...)
	}
	return out
}

package ui

import (
	"math"

	"github.com/charmbracelet/bubbles/key"

	"github.com/gameday/gameday/gamedays"
)

// hypothesisScreen is the hypothesis phase: what the room expects, before
// the blast radius is shown; enter moves on to it.
type hypothesisScreen struct{ advancing }

// ShortHelp: continue, and predictions are made here.
func (m *hypothesisScreen) ShortHelp() []key.Binding {
	return []key.Binding{m.keys.Next, m.keys.Predict}
}

// View is the statement, every expectation resolved against the baseline,
// and the predictions made.
func (m *hypothesisScreen) View() []string {
	st, s := m.styles, m.run
	out := []string{st.Bold.Render("Hypothesis")}
	for _, l := range wrap(s.Statement, m.width-2) {
		out = append(out, "  "+l)
	}
	out = append(out, "")
	rows := [][]cell{}
	for _, c := range s.Expect {
		base := "-"
		if b := float64(c.Baseline); !math.IsNaN(b) {
			base = s.Format(c.Panel, b)
		} else if b, ok := s.Baseline[c.Panel]; ok && !math.IsNaN(float64(b.Median)) {
			// An absolute limit does not use the baseline, but it was
			// measured, and the room compares against it.
			base = s.Format(c.Panel, float64(b.Median))
		}
		rows = append(rows, []cell{cell{text: c.Panel}, cell{text: c.Threshold}, cell{text: base}, cell{text: c.Text}})
	}
	out = append(out, m.table([]string{"panel", "expect", "baseline", "resolved"}, []int{14, 20, 10}, rows)...)
	out = append(out, "")
	out = append(out, m.notesOf("Predictions", "prediction", "none yet: press p to add one")...)
	out = append(out, "")
	next := "Press enter to continue to the blast radius."
	if !m.may(gamedays.IntentNext, "") {
		next = "The facilitator continues to the blast radius."
	}
	out = append(out, m.wrapStyled(next+" Nothing is injected before it is confirmed.", st.Muted)...)
	return out
}

// notesOf lists the notes of one kind, newest last.
func (m *page) notesOf(title, kind, empty string) []string {
	st, s := m.styles, m.run
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
		out = append(out, "  "+st.Muted.Render(tplus(s.Elapsed(nt.at)))+" "+nt.text+st.Muted.Render(who))
	}
	if n == 0 {
		out = append(out, "  "+st.Muted.Render(empty))
	}
	return out
}

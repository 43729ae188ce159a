package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/gamedays/report"
)

// concludeScreen is the conclude phase and what follows the end: the
// verdict, and the write-up. Enter finishes the game day (q does too, but
// leaving is the root model's: it ends the program).
type concludeScreen struct{ advancing }

// ShortHelp: finishing, and the write-up, until the game day has ended.
func (m *concludeScreen) ShortHelp() []key.Binding {
	if m.run.Phase != gamedays.PhaseConclude {
		return nil
	}
	if m.participant != nil {
		// A participant's q only disconnects them; the facilitator finishes.
		return []key.Binding{m.keys.Finding, m.keys.ActionItem, withHelp(m.keys.Leave, "leave")}
	}
	return []key.Binding{withHelp(m.keys.Next, "finish"), m.keys.Finding, m.keys.ActionItem, m.keys.Leave}
}

// predictedVsMeasured puts each prediction beside what the verdict
// measured in the panels it names (report.PredictedPanels, as the report
// does), once the hypothesis has been judged.
func (m *concludeScreen) predictedVsMeasured(short bool) []string {
	st, s, rb := m.styles, m.run, m.cfg.Runbook
	if rb == nil || len(s.Results) == 0 {
		return nil
	}
	var out []string
	for _, nt := range s.notes {
		if nt.kind != "prediction" {
			continue
		}
		if out == nil {
			out = append(out, "", st.Bold.Render("Predicted vs measured"))
		}
		who := ""
		if nt.author != "" {
			who = " (" + nt.author + ")"
		}
		var measured []string
		for _, panel := range report.PredictedPanels(nt.text, rb.Metrics.Panels) {
			for _, r := range s.Results {
				if r.Panel != panel {
					continue
				}
				label := report.CheckLabel(r.Panel, r.Text)
				if r.NoData {
					measured = append(measured, label+": no data")
					continue
				}
				measured = append(measured, label+" "+s.Format(r.Panel, float64(r.Value))+" ("+strings.ToLower(held(r.Held, r.NoData))+")")
			}
		}
		if short {
			line := "  " + nt.text + " → " + strings.Join(measured, "; ")
			out = append(out, ansi.Truncate(line, m.width, "…"))
			continue
		}
		out = append(out, "  "+st.Muted.Render(tplus(s.Elapsed(nt.at)))+" predicted: "+nt.text+st.Muted.Render(who))
		if len(measured) > 0 {
			for _, l := range wrap("measured: "+strings.Join(measured, "; "), m.width-10) {
				out = append(out, "          "+l)
			}
		}
	}
	return out
}

// View is the verdict with its evidence, findings and action items.
func (m *concludeScreen) View() []string {
	st, s := m.styles, m.run
	var out []string
	switch {
	case !s.VerdictSet:
		out = append(out, st.Muted.Render("Judging the hypothesis…"))
	case s.Verdict == gamedays.VerdictHeld && len("Verdict: HELD  "+s.VerdictMsg) <= m.width:
		out = append(out, st.OK.Render("Verdict: HELD")+"  "+s.VerdictMsg)
	case s.Verdict == gamedays.VerdictHeld:
		// What the verdict could not cover comes after a semicolon: it
		// must be read whole, not cut at the screen's edge.
		out = append(out, st.OK.Render("Verdict: HELD"))
		for _, l := range wrap(s.VerdictMsg, m.width-2) {
			out = append(out, "  "+l)
		}
	case s.Verdict == gamedays.VerdictNone:
		out = append(out, st.Bold.Render("Dry run")+"  "+s.VerdictMsg)
	default:
		out = append(out, st.Bad.Render("Verdict: "+strings.ToUpper(string(s.Verdict))))
		for _, l := range wrap(s.VerdictMsg, m.width-2) {
			out = append(out, "  "+l)
		}
	}
	evidence := s.Results
	if s.Verdict == gamedays.VerdictBlocked {
		evidence = s.Steady
	}
	if len(evidence) > 0 {
		rows := [][]cell{}
		for _, c := range evidence {
			rows = append(rows, []cell{cs(held(c.Held, c.NoData), m.heldStyle(c.Held, c.NoData)), cell{text: c.Text}})
		}
		out = append(out, "")
		out = append(out, m.table([]string{"result", "evidence"}, []int{10}, rows)...)
	}
	if strip := m.alertStrip(); len(strip) > 0 {
		out = append(append(out, ""), strip...)
	}
	notes := append([]string{""}, m.notesOf("Findings", "finding", "none yet: press f to add one")...)
	notes = append(notes, m.notesOf("Action items", "action", "none yet: press a to add one")...)
	// Predictions take the room the findings and the closing words leave
	// (three rows of it): whole, one line each, or not at all.
	room := m.height - len(out) - len(notes) - 3
	// A drill's debrief starts from its marks: who found it, who fixed it,
	// and when the fault was seen gone; where it fits.
	if drill := m.drillView(true); len(drill) <= room {
		out = append(out, drill...)
		room -= len(drill)
	}
	for _, pred := range [][]string{m.predictedVsMeasured(false), m.predictedVsMeasured(true)} {
		if len(pred) <= room {
			out = append(out, pred...)
			break
		}
	}
	out = append(out, notes...)
	out = append(out, "")
	if s.Ended {
		out = append(out, m.wrapStyled("The game day has ended. Next: "+m.nextHint(), st.Muted)...)
	} else {
		if m.participant != nil {
			out = append(out, m.wrapStyled("The facilitator finishes the game day; q leaves this console.", st.Muted)...)
		} else {
			out = append(out, m.wrapStyled("Add findings and action items now; enter or q finishes the game day and closes the journal.", st.Muted)...)
		}
	}
	return out
}

package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
)

// baselineScreen is the baseline phase: the steady state measured before
// anything is injected.
type baselineScreen struct{ page }

// ShortHelp: nothing but the keys of every screen.
func (m *baselineScreen) ShortHelp() []key.Binding { return nil }

// View is the steady state filling in live against its checks with a
// countdown, then the result with its numbers.
func (m *baselineScreen) View() []string {
	st, s, rb := m.styles, m.run, m.cfg.Runbook
	var out []string
	if rb == nil {
		return out
	}
	if s.SteadyKnown {
		if s.SteadyOK {
			out = append(out, st.OK.Render("Steady state holds.")+" The hypothesis comes next.")
		} else {
			out = append(out, st.Bad.Render("BLOCKED: the steady state does not hold, so nothing will be injected."))
		}
		rows := [][]cell{}
		for _, c := range s.Steady {
			rows = append(rows, []cell{cs(held(c.Held, c.NoData), m.heldStyle(c.Held, c.NoData)), cell{text: c.Text}})
		}
		return append(out, m.table([]string{"result", "evidence"}, []int{10}, rows)...)
	}
	left := rb.Baseline.Duration - m.now.Sub(s.PhaseAt[gamedays.PhaseBaseline])
	if s.PhaseAt[gamedays.PhaseBaseline].IsZero() {
		left = rb.Baseline.Duration
	}
	out = append(out, st.Bold.Render("Measuring the steady state")+fmt.Sprintf(": %s left of %s; nothing is injected yet.",
		clockDur(left), runbook.FormatDuration(rb.Baseline.Duration)))
	rows := [][]cell{}
	for i, ck := range rb.Baseline.SteadyState {
		unit := unitOf(rb, ck.Panel)
		status, value := cs("waiting", st.Muted), ""
		if live := s.live(); i < len(live.Steady) {
			r := live.Steady[i]
			value = runbook.FormatValue(float64(r.Value), unit) + statKind(r.Statistic)
			switch {
			case r.NoData:
				status, value = cs("no data", st.Warn), ""
			case r.Held:
				status = cs("holding", st.OK)
			default:
				status = cs("BREAKING", st.Bad)
			}
		}
		rows = append(rows, []cell{c(ck.Panel), c(ck.Threshold.Text), status, c(value)})
	}
	return append(out, m.table([]string{"panel", "must hold", "so far", "value"}, []int{14, 18, 10}, rows)...)
}

// statKind is the kind of statistic a value is, " (p95)" from the
// engine's "p95 of 13 steps": how many steps is the engine's business.
func statKind(statistic string) string {
	kind, _, _ := strings.Cut(statistic, " of ")
	if kind == "" {
		return ""
	}
	return " (" + kind + ")"
}

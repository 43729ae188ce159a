package ui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
)

// cell is one table cell: plain text and the style it is shown in.
type cell struct {
	text  string
	style *lipgloss.Style
}

// c and cs make plain and styled cells.
func c(text string) cell { return cell{text: text} }

func cs(text string, st lipgloss.Style) cell { return cell{text: text, style: &st} }

// render cuts or pads the cell to w cells, then styles it.
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
func (m *page) table(head []string, widths []int, rows [][]cell) []string {
	st := m.styles
	w := m.width
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
		if len(r) == 1 { // a note across the whole table
			out = append(out, r[0].render(w))
			continue
		}
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

// unitOf is the unit of a panel, none when unknown.
func unitOf(rb *runbook.Runbook, panel string) runbook.Unit {
	if rb == nil {
		return runbook.UnitNone
	}
	if p, ok := rb.Panel(panel); ok {
		return p.Unit
	}
	return runbook.UnitNone
}

// held words a check result.
func held(ok, nodata bool) string {
	switch {
	case nodata:
		return "NO DATA"
	case ok:
		return "held"
	}
	return "BROKEN"
}

// heldStyle colours a check result.
func (m *page) heldStyle(ok, nodata bool) lipgloss.Style {
	switch {
	case nodata:
		return m.styles.Warn
	case ok:
		return m.styles.OK
	}
	return m.styles.Bad
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
	case gamedays.StatusInjectFailed, gamedays.StatusRollbackFailed, gamedays.StatusEnded:
		return cs(r.Status.String(), st.Bad)
	case gamedays.StatusReverted:
		if r.Irreversible {
			return cs("done; not undoable", st.Warn)
		}
		if r.Gone {
			// Something else ended it before its rollback came.
			return cs("found gone", st.Warn)
		}
		return cs("✓ reverted", st.OK)
	}
	return cs(r.Status.String(), st.Muted)
}

// outputCell is the last output line, red when it explains a failure.
func (m *page) outputCell(r *attackRow) cell {
	if r.Status == gamedays.StatusReverted && r.Gone {
		return cs("no longer in place when its rollback came: something else ended it", m.styles.Warn)
	}
	switch r.Status {
	case gamedays.StatusEnded:
		return cs(r.EndedWhy, m.styles.Bad)
	case gamedays.StatusInjectFailed, gamedays.StatusRollbackFailed:
		return cs(lastLine(r), m.styles.Bad)
	}
	return c(lastLine(r))
}

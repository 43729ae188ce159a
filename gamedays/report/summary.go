package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/gameday/gameday/runbook"
)

// Summary writes a Markdown table of every run under runsDir (each a
// directory holding a journal), oldest first: date, runbook, verdict, the
// change of the latency and error panels under attack, duration and aborts.
// A run whose journal cannot be read is listed with the reason.
func Summary(w io.Writer, runsDir string) error {
	runs, err := loadRuns(runsDir)
	if err != nil {
		return err
	}
	type row struct {
		date  time.Time
		cells []string
	}
	var rows []row
	for _, rn := range runs {
		r, name := rn.r, rn.name
		if rn.err != nil {
			rows = append(rows, row{cells: []string{"?", name, "unreadable: " + rn.err.Error(), "—", "—", "—", "—"}})
			continue
		}
		verdict := verdictWord(r.Verdict.Value)
		if r.Status.Outcome == "incomplete" {
			verdict = "incomplete"
		}
		if len(r.Unreverted) > 0 {
			verdict += fmt.Sprintf(" (%d may still be applied)", len(r.Unreverted))
		}
		aborts := "0"
		if n := len(r.Aborts); n > 0 {
			aborts = fmt.Sprintf("%d (%s)", n, r.Aborts[0].Source)
		}
		rows = append(rows, row{date: r.Start, cells: []string{
			r.Start.Format("2006-01-02 15:04"), r.Title + " (" + name + ")", verdict,
			r.panelDelta(runbook.UnitSeconds, "p95"), r.panelDelta(runbook.UnitRatio, "error"),
			runbook.FormatDuration(time.Duration(math.Round(r.Duration)) * time.Second), aborts,
		}})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].date.Before(rows[j].date) })
	var b strings.Builder
	b.WriteString("| Date | Runbook | Verdict | P95 delta | Error delta | Duration | Aborts |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		b.WriteString("|")
		for _, c := range r.cells {
			b.WriteString(" " + cell(c) + " |")
		}
		b.WriteString("\n")
	}
	if len(rows) == 0 {
		fmt.Fprintf(&b, "\nNo runs under %s.\n", runsDir)
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// panelDelta is the change of the first panel in unit, preferring one whose
// name contains hint: P95 latency and error rate are what people compare.
func (r *Report) panelDelta(unit runbook.Unit, hint string) string {
	var pick *Panel
	for i := range r.Panels {
		p := &r.Panels[i]
		if runbook.Unit(p.Unit) != unit {
			continue
		}
		if pick == nil || (!strings.Contains(pick.Name, hint) && strings.Contains(p.Name, hint)) {
			pick = p
		}
	}
	if pick == nil {
		return "—"
	}
	return delta(pick.Delta, unit)
}

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
	best := map[string]*stageBest{} // by runbook title
	var titles []string
	for _, rn := range runs {
		r, name := rn.r, rn.name
		if rn.err != nil {
			rows = append(rows, row{cells: []string{"?", name, "unreadable: " + rn.err.Error(), "—", "—", "—", "—", "—"}})
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
			runbook.FormatDuration(time.Duration(math.Round(r.Duration)) * time.Second), aborts, r.stageHeldWords(),
		}})
		if len(r.Stages) > 0 {
			if best[r.Title] == nil {
				titles = append(titles, r.Title)
				best[r.Title] = &stageBest{}
			}
			best[r.Title].add(r, name)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].date.Before(rows[j].date) })
	var b strings.Builder
	b.WriteString("| Date | Runbook | Verdict | P95 delta | Error delta | Duration | Aborts | Stages held |\n|---|---|---|---|---|---|---|---|\n")
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
	if len(titles) > 0 {
		sort.Strings(titles)
		b.WriteString("\nLargest stage held per runbook, over its staged runs:\n\n| Runbook | Largest stage held | In run | Staged runs |\n|---|---|---|---|\n")
		for _, t := range titles {
			x := best[t]
			fmt.Fprintf(&b, "| %s | %s | %s | %d |\n", cell(t), cell(x.words), cell(x.run), x.runs)
		}
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

// stageHeldWords is how far a staged run's escalation held: "2 of 3 (2
// of checkout at 200ms)", "none of 3", or "—" for a run without stages.
func (r *Report) stageHeldWords() string {
	if len(r.Stages) == 0 {
		return "—"
	}
	if held := r.largestHeld(); held != nil {
		return fmt.Sprintf("%d of %d (%s)", held.Stage, held.Of, held.Words)
	}
	return fmt.Sprintf("none of %d", len(r.Stages))
}

// largestHeld is the last stage of the unbroken run of stages that held
// from the first, or nil.
func (r *Report) largestHeld() *Stage {
	var held *Stage
	for i := range r.Stages {
		if r.Stages[i].Result != StageHeld {
			break
		}
		held = &r.Stages[i]
	}
	return held
}

// stageBest is the largest stage a runbook held over its staged runs; on
// a tie, the latest run's.
type stageBest struct {
	stage, runs int
	words, run  string
	at          time.Time
}

func (x *stageBest) add(r *Report, run string) {
	x.runs++
	n := 0
	if held := r.largestHeld(); held != nil {
		n = held.Stage
	}
	if x.run != "" && (n < x.stage || n == x.stage && r.Start.Before(x.at)) {
		return
	}
	x.stage, x.words, x.run, x.at = n, r.stageHeldWords(), run, r.Start
}

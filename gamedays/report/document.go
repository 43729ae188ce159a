package report

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
)

// The report's content is laid out once as sections of simple blocks, and
// the Markdown and HTML writers only render them, so both say the same.
type section struct {
	id, title string
	blocks    []block
}

type blockKind int

const (
	bPara blockKind = iota
	bNotice
	bTable
	bList
	bChecklist
	bCode
	bChart
)

type block struct {
	kind   blockKind
	strong string // bold lead-in of a paragraph or notice
	text   string
	class  string // verdict colour for HTML: held, refuted, aborted, blocked
	head   []string
	rows   [][]string
	items  []string
	chart  int // index into charts.panels
}

func para(strong, text string) block { return block{kind: bPara, strong: strong, text: text} }

func (r *Report) document() (title string, meta []block, sections []section) {
	title = r.Title
	if r.Status.Notice != "" {
		meta = append(meta, block{kind: bNotice, strong: strings.ToUpper(r.Status.Outcome) + ".", text: r.Status.Notice})
	}
	for _, w := range r.Warnings {
		meta = append(meta, block{kind: bNotice, strong: "Warning.", text: w})
	}
	if r.TimeScale > 0 {
		meta = append(meta, block{kind: bNotice, strong: "Rehearsal.", text: RehearsalText(r.TimeScale)})
	}
	meta = append(meta,
		para("Date: ", r.Start.Format("2006-01-02 15:04:05 MST")),
		para("Duration: ", runbook.FormatDuration(time.Duration(math.Round(r.Duration))*time.Second)+" (until "+r.End.Format("15:04:05 MST")+")"),
	)
	var who []string
	for _, p := range r.Participants {
		s := p.Name + " (" + strings.Join(p.Roles, ", ")
		if p.Joined {
			s += "; joined live"
		}
		if p.Notes > 0 {
			s += fmt.Sprintf("; %d note(s)", p.Notes)
		}
		who = append(who, s+")")
	}
	if len(who) == 0 {
		who = []string{"none recorded"}
	}
	meta = append(meta, para("Participants: ", strings.Join(who, ", ")))

	sections = append(sections,
		r.verdictSection(), r.hypothesisSection(), r.baselineSection(), r.chartSection(),
		r.blastSection())
	if len(r.Stages) > 0 {
		sections = append(sections, r.stagesSection())
	}
	sections = append(sections, r.attackSection(), r.guardrailSection())
	if len(r.Alerts) > 0 || len(r.OtherAlerts) > 0 {
		sections = append(sections, r.alertsSection())
	}
	if r.Drill != nil {
		sections = append(sections, r.drillSection())
	}
	sections = append(sections, r.timelineSection(), r.findingsSection(), r.appendixSection())
	return title, meta, sections
}

func (r *Report) unit(panel string) runbook.Unit {
	for _, p := range r.Panels {
		if p.Name == panel {
			return runbook.Unit(p.Unit)
		}
	}
	return runbook.UnitNone
}

func val(v gamedays.Num, u runbook.Unit) string { return runbook.FormatValue(float64(v), u) }

func limitText(v gamedays.Num, u runbook.Unit) string {
	if math.IsNaN(float64(v)) {
		return "—"
	}
	return val(v, u)
}

func delta(v gamedays.Num, u runbook.Unit) string {
	f := float64(v)
	if math.IsNaN(f) {
		return "—"
	}
	sign := "+"
	if f < 0 {
		sign, f = "-", -f
	}
	if u == runbook.UnitRatio {
		return sign + strings.TrimSuffix(runbook.FormatValue(f, u), "%") + " pp"
	}
	return sign + runbook.FormatValue(f, u)
}

func heldText(c Check) string {
	switch {
	case c.NoData:
		return "no data"
	case c.Held == nil:
		return "not judged"
	case *c.Held:
		return "held"
	}
	return "BROKEN"
}

func (r *Report) verdictSection() section {
	s := section{id: "verdict", title: "Verdict"}
	word := strings.ToUpper(verdictWord(r.Verdict.Value))
	if r.Verdict.Value == "" && !r.Status.Complete {
		word = "NO VERDICT"
	}
	reason := r.Verdict.Reason
	if reason == "" {
		reason = "the journal ends before a verdict was reached"
	}
	var ev []string
	for _, c := range r.Verdict.Evidence {
		ev = append(ev, c.Text)
	}
	if len(ev) > 0 && !strings.Contains(reason, ev[0]) {
		reason += ". Evidence: " + strings.Join(ev, "; ")
	}
	s.blocks = append(s.blocks, block{kind: bPara, strong: word + ": ", text: reason, class: strings.ToLower(strings.ReplaceAll(word, " ", "-"))})
	return s
}

func (r *Report) hypothesisSection() section {
	s := section{id: "hypothesis", title: "Hypothesis and expectations"}
	if r.Hypothesis.Statement == "" && len(r.Hypothesis.Expectations) == 0 {
		s.blocks = append(s.blocks, para("", "The run stopped before the hypothesis was stated."))
		return s
	}
	s.blocks = append(s.blocks, para("Hypothesis: ", r.Hypothesis.Statement))
	if len(r.Hypothesis.Expectations) > 0 {
		t := block{kind: bTable, head: []string{"Panel", "Expectation", "Limit", "Baseline", "Measured", "Result"}}
		for _, c := range r.Hypothesis.Expectations {
			u := r.unit(c.Panel)
			measured := "—"
			if c.Held != nil {
				measured = val(c.Value, u)
			}
			base := c.Baseline
			if math.IsNaN(float64(base)) {
				// An absolute limit does not use the baseline, but it was measured.
				base = r.baselineMedian(c.Panel)
			}
			t.rows = append(t.rows, []string{c.Panel, c.Threshold, limitText(c.Limit, u), limitText(base, u), measured, heldText(c)})
		}
		s.blocks = append(s.blocks, t)
	}
	if len(r.Predictions) > 0 {
		t := block{kind: bTable, head: []string{"T+", "Who", "Predicted", "Measured"}}
		for _, p := range r.Predictions {
			measured := strings.Join(p.Measured, "; ")
			if measured == "" {
				measured = "—"
			}
			t.rows = append(t.rows, []string{clock(p.T), p.Author, p.Text, measured})
		}
		s.blocks = append(s.blocks, para("Predicted vs measured:", ""), t)
	}
	return s
}

// baselineMedian is the panel's baseline median; NaN when none was measured.
func (r *Report) baselineMedian(panel string) gamedays.Num {
	for _, p := range r.Panels {
		if p.Name == panel && p.Baseline.Count > 0 {
			return p.Baseline.Median
		}
	}
	return gamedays.Num(math.NaN())
}

func (r *Report) baselineSection() section {
	s := section{id: "baseline", title: "Steady state at baseline"}
	t := block{kind: bTable, head: []string{"Panel", "Min", "Median", "P95", "Max", "Samples"}}
	for _, p := range r.Panels {
		u := runbook.Unit(p.Unit)
		b := p.Baseline
		t.rows = append(t.rows, []string{p.Title, val(b.Min, u), val(b.Median, u), val(b.P95, u), val(b.Max, u), fmt.Sprint(b.Count)})
	}
	if len(t.rows) > 0 {
		s.blocks = append(s.blocks, t)
	} else {
		s.blocks = append(s.blocks, para("", "No baseline was measured."))
	}
	if len(r.SteadyState) > 0 {
		c := block{kind: bTable, head: []string{"Panel", "Steady state", "Measured", "Result"}}
		for _, ch := range r.SteadyState {
			c.rows = append(c.rows, []string{ch.Panel, ch.Threshold, val(ch.Value, r.unit(ch.Panel)), heldText(ch)})
		}
		s.blocks = append(s.blocks, c)
	}
	return s
}

func (r *Report) chartSection() section {
	s := section{id: "metrics", title: "Metrics over the run"}
	for i := range r.charts.panels {
		s.blocks = append(s.blocks, block{kind: bChart, chart: i})
	}
	spans := "from inject to rollback"
	if r.charts.endedEarly {
		spans = "from inject to rollback, or to when a fault was seen ended early"
	}
	legend := "Shaded bands are the phases; orange spans are attacks, " + spans + "; dashed green lines are expectations and dashed red lines guardrails; a dark red line marks an abort."
	if len(r.charts.stages) > 0 {
		legend += " Each stage of the escalation starts at a dotted grey rule and is shaded from its start to its judgement: green where it held, red where it broke the hypothesis."
	}
	if len(r.charts.alerts) > 0 {
		legend += " Purple lines mark each alert's transitions: dashed pending, solid firing, dotted paged, long dashes resolved."
	}
	s.blocks = append(s.blocks, para("", legend))
	t := block{kind: bTable, head: []string{"Panel", "Baseline median", "Median under attack", "Change", "Peak under attack"}}
	for _, p := range r.Panels {
		u := runbook.Unit(p.Unit)
		t.rows = append(t.rows, []string{p.Title, val(p.Baseline.Median, u), val(p.Attack.Median, u), delta(p.Delta, u), val(p.Attack.Max, u)})
	}
	if len(t.rows) > 0 {
		s.blocks = append(s.blocks, t)
	}
	return s
}

func (r *Report) blastSection() section {
	s := section{id: "blast-radius", title: "Blast radius"}
	if len(r.BlastRadius) == 0 {
		s.blocks = append(s.blocks, para("", "No target was resolved: nothing was touched."))
		return s
	}
	t := block{kind: bTable, head: []string{"Target", "Selection", "Seed", "Resolved", "Selected (touched)"}}
	for _, b := range r.BlastRadius {
		seed := "—"
		if b.Seed != nil {
			seed = fmt.Sprint(*b.Seed)
		}
		sel := b.Selection
		if sel == "" {
			sel = "unknown"
		}
		t.rows = append(t.rows, []string{b.Target, sel, seed, strings.Join(b.Resolved, ", "), strings.Join(b.Selected, ", ")})
	}
	s.blocks = append(s.blocks, t)
	return s
}

func (r *Report) at(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return "T+" + clock(t.Sub(r.Start).Seconds())
}

func params(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, " ")
}

func (r *Report) attackSection() section {
	s := section{id: "attacks", title: "Attacks"}
	if len(r.Attacks) == 0 {
		s.blocks = append(s.blocks, para("", "Nothing was injected."))
		return s
	}
	t := block{kind: bTable, head: []string{"Attack", "Target", "Member", "Kind", "Params", "Injected", "Rolled back", "Result"}}
	var outs []string
	for _, a := range r.Attacks {
		result := a.Result
		if a.Error != "" {
			result += ": " + a.Error
		}
		if a.EndedEarly != "" {
			result += "; ENDED EARLY, " + a.EndedEarly
		}
		switch {
		case a.Gone && a.EndedEarly != "":
			result += "; still gone when its rollback came" // who ended it is said above
		case a.Gone:
			result += "; GONE before its rollback: something other than gameday ended it"
		}
		rb := a.Rollback
		if a.RollbackError != "" {
			rb += ": " + a.RollbackError
		}
		if a.RollbackReason != "" {
			rb += " (" + a.RollbackReason + ")"
		}
		t.rows = append(t.rows, []string{a.Name, a.Target, a.Member, a.Kind, params(a.Params), r.at(a.InjectedAt), r.at(a.RolledBackAt), result + "; rollback " + rb})
		if a.Output != "" {
			outs = append(outs, fmt.Sprintf("%s on %s, inject:\n%s", a.Name, a.Member, a.Output))
		}
		if a.RollbackOutput != "" {
			outs = append(outs, fmt.Sprintf("%s on %s, rollback:\n%s", a.Name, a.Member, a.RollbackOutput))
		}
	}
	s.blocks = append(s.blocks, t)
	if len(outs) > 0 {
		s.blocks = append(s.blocks, para("", "Output (trimmed):"), block{kind: bCode, text: strings.Join(outs, "\n\n")})
	}
	return s
}

func (r *Report) guardrailSection() section {
	s := section{id: "guardrails", title: "Guardrails and aborts"}
	if len(r.Unreverted) > 0 {
		var items []string
		for _, u := range r.Unreverted {
			items = append(items, fmt.Sprintf("%s (%s) on %s: %s", u.Attack, u.Kind, u.Member, u.Why))
		}
		s.blocks = append(s.blocks, block{kind: bNotice, strong: "May still be applied.", text: "Run `gameday recover` on this run, then check these by hand."}, block{kind: bList, items: items})
	}
	if len(r.Guardrails) > 0 {
		t := block{kind: bTable, head: []string{"Panel", "Stops the run when", "Limit"}}
		for _, g := range r.Guardrails {
			lim := limitText(g.Limit, r.unit(g.Panel))
			if g.Panel == "(any)" {
				lim = runbook.FormatDuration(time.Duration(float64(g.Limit) * float64(time.Second)))
			}
			t.rows = append(t.rows, []string{g.Panel, g.Threshold, lim})
		}
		s.blocks = append(s.blocks, t)
	} else {
		s.blocks = append(s.blocks, para("", "No guardrails were set."))
	}
	if len(r.Breaches) == 0 {
		s.blocks = append(s.blocks, para("", "No guardrail fired."))
	} else {
		var items []string
		for _, b := range r.Breaches {
			items = append(items, "T+"+clock(b.T)+" "+b.Text)
		}
		s.blocks = append(s.blocks, para("Breaches:", ""), block{kind: bList, items: items})
	}
	if len(r.Aborts) == 0 {
		s.blocks = append(s.blocks, para("", "The run was not aborted."))
	} else {
		var items []string
		for _, a := range r.Aborts {
			by := a.Source
			if a.By != "" {
				by += ", " + a.By
			}
			items = append(items, "T+"+clock(a.T)+" ("+by+"): "+a.Reason)
		}
		s.blocks = append(s.blocks, para("Aborts:", ""), block{kind: bList, items: items})
	}
	return s
}

func (r *Report) drillSection() section {
	d := r.Drill
	s := section{id: "drill", title: "Drill"}
	secs := func(v gamedays.Num) string {
		if math.IsNaN(float64(v)) {
			return "not reached"
		}
		return runbook.FormatValue(float64(v), runbook.UnitSeconds)
	}
	t := block{kind: bTable, head: []string{"Time to detect", "Detected by", "Time to mitigate", "Mitigated by", "Hints", "False alarms"}}
	t.rows = append(t.rows, []string{secs(d.TTD), d.DetectedBy, secs(d.TTM), d.MitigatedBy, fmt.Sprint(d.Hints), fmt.Sprint(d.FalseAlarms)})
	s.blocks = append(s.blocks, t)
	if d.Detected != "" {
		s.blocks = append(s.blocks, para("What they saw: ", d.Detected))
	}
	if d.Mitigated != "" {
		s.blocks = append(s.blocks, para("What they did: ", d.Mitigated))
	}
	if d.GoneWhat != "" {
		s.blocks = append(s.blocks, para("Seen gone: ", d.GoneWhat+", "+secs(d.Gone)+" after the first fault landed (the zero of the times above), before its rollback"))
	}
	if len(d.Alerts) > 0 {
		s.blocks = append(s.blocks, r.detectVersusAlerts(secs))
	}
	return s
}

// detectVersusAlerts sets the responders' time to detect beside each
// expected alert's time to fire and to page, all from the same inject:
// who noticed first, people or the pager.
func (r *Report) detectVersusAlerts(secs func(gamedays.Num) string) block {
	d := r.Drill
	t := block{kind: bTable, head: []string{"Signal", "After the fault landed"}}
	who := d.DetectedBy
	if who == "" {
		who = "responders"
	}
	t.rows = append(t.rows, []string{"detected by " + who, secs(d.TTD)})
	for _, a := range d.Alerts {
		t.rows = append(t.rows, []string{a.Alert + " fired", secs(a.Fired)})
		if !math.IsNaN(float64(a.Paged)) {
			t.rows = append(t.rows, []string{a.Alert + " paged", secs(a.Paged)})
		}
	}
	return t
}

func (r *Report) timelineSection() section {
	s := section{id: "timeline", title: "Timeline"}
	t := block{kind: bTable, head: []string{"T+", "Phase", "Who", "What"}}
	for _, e := range r.Timeline {
		// How many samples were journalled is bookkeeping; the charts
		// above are what the samples say. The JSON keeps the line.
		if e.Type == gamedays.EvSample {
			continue
		}
		t.rows = append(t.rows, []string{clock(e.T), e.Phase, e.Author, e.Text})
	}
	s.blocks = append(s.blocks, t)
	return s
}

func (r *Report) findingsSection() section {
	s := section{id: "findings", title: "Findings and action items"}
	notes := func(ns []Note) []string {
		var out []string
		for _, n := range ns {
			who := ""
			if n.Author != "" {
				who = " (" + n.Author + ", T+" + clock(n.T) + ")"
			}
			out = append(out, n.Text+who)
		}
		return out
	}
	if len(r.Findings) > 0 {
		s.blocks = append(s.blocks, para("Findings:", ""), block{kind: bList, items: notes(r.Findings)})
	} else {
		s.blocks = append(s.blocks, para("", "No findings were noted."))
	}
	if len(r.Actions) > 0 {
		s.blocks = append(s.blocks, para("Action items:", ""), block{kind: bChecklist, items: notes(r.Actions)})
	} else {
		s.blocks = append(s.blocks, para("", "No action items were noted."))
	}
	return s
}

func (r *Report) appendixSection() section {
	s := section{id: "appendix", title: "Appendix"}
	tool := r.ToolVersion
	if tool == "" {
		tool = "unknown"
	}
	s.blocks = append(s.blocks,
		para("Run id: ", r.RunID),
		para("Tool version: ", "gameday "+tool),
		para("Runbook file: ", r.RunbookFile),
		para("Report schema: ", Schema),
	)
	if r.RunbookSource != "" {
		s.blocks = append(s.blocks, para("The runbook as run:", ""), block{kind: bCode, text: strings.TrimRight(r.RunbookSource, "\n")})
	}
	return s
}

// RehearsalText says what a time-scaled run changed, in the words the
// report and the autopilot both use.
func RehearsalText(f float64) string {
	return fmt.Sprintf("every duration of the runbook was multiplied by %g (--time-scale); PromQL windows, metrics_blind, timeouts and alert limits kept their length.", f)
}

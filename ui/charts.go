package ui

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/ui/chart"
)

// panelChart is one panel's chart and the stats beside it.
type panelChart struct {
	c     *chart.Chart
	lines []string // rendered chart rows
	side  []string // rendered side panel rows
	title string
	b     strings.Builder
}

// Chart geometry.
const (
	minChartHeight = 6 // rows of a chart, axes included, below which it is not drawn
	sideWide       = 30
	sideNarrow     = 24
)

func (m *model) sideWidth() int {
	if m.width >= 120 {
		return sideWide
	}
	return sideNarrow
}

func (m *model) chartWidth() int { return max(0, m.width-m.sideWidth()-1) }

func (m *model) chartColumns() int { return chart.PlotColumns(m.chartWidth()) }

// showsCharts says whether the current screen has charts.
func (m *model) showsCharts() bool {
	if m.cfg.Metrics == nil || m.cfg.Runbook == nil || len(m.cfg.Runbook.Metrics.Panels) == 0 {
		return false
	}
	switch m.run.Phase {
	case gamedays.PhaseBaseline, gamedays.PhaseRun, gamedays.PhaseObserve, gamedays.PhaseAborted:
		return true
	}
	// Elsewhere the charts fill what room the screen leaves, if it is enough
	// for one: the room keeps an eye on the system while it talks.
	return m.bodyHeight()-len(m.topLines()) >= minChartHeight+1
}

// chartArea is how many body rows the charts get on the current screen.
func (m *model) chartArea() int {
	if !m.showsCharts() {
		return 0
	}
	return max(0, m.bodyHeight()-len(m.topLines()))
}

// layoutCharts sizes each panel's chart for the area the screen leaves.
func (m *model) layoutCharts() {
	rb := m.cfg.Runbook
	if rb == nil {
		return
	}
	n := len(rb.Metrics.Panels)
	area := m.chartArea()
	shown := min(n, area/(minChartHeight+1))
	for i, p := range rb.Metrics.Panels {
		pc := m.charts[p.Name]
		if pc == nil {
			pc = &panelChart{c: chart.New(0, 0)}
			m.charts[p.Name] = pc
		}
		if i >= shown {
			pc.c.Resize(0, 0)
			continue
		}
		h := area/shown - 1 // a title row each
		if i == shown-1 {
			h = area - (shown-1)*(area/shown) - 1
		}
		pc.c.Resize(m.chartWidth(), h)
	}
}

// drawCharts redraws every chart from the latest metrics. It is called when
// data, size, phase or toggles change, never from View.
func (m *model) drawCharts() {
	rb := m.cfg.Runbook
	if rb == nil {
		return
	}
	m.layoutCharts()
	data := m.metrics
	for _, p := range rb.Metrics.Panels {
		pc := m.charts[p.Name]
		var pd *panelData
		for i := range data.panels {
			if data.panels[i].panel.Name == p.Name {
				pd = &data.panels[i]
			}
		}
		m.drawPanel(pc, p, pd)
	}
}

func (m *model) drawPanel(pc *panelChart, p runbook.Panel, pd *panelData) {
	w, h := pc.c.Size()
	pc.lines, pc.side = pc.lines[:0], pc.side[:0]
	pc.title = p.Name
	if p.Title != "" {
		pc.title = p.Title
	}
	if w == 0 || h == 0 {
		return
	}
	spec, limits := m.panelSpec(p, pd)
	pc.c.Draw(spec)
	pc.b.Reset()
	pc.c.Render(&pc.b, &m.styles.Chart)
	pc.lines = append(pc.lines, strings.Split(pc.b.String(), "\n")...)
	side := m.sidePanel(p, pd, h-len(limits))
	pc.side = append(side, m.limitLines(pc.c, limits, h-len(side))...)
}

// limitLines words the limits drawn on a chart in at most h rows of the
// side panel. A limit is wrapped, never cut, where there is room: "guardrail
// > 2s for 5s (…" hides what the line means. Where there is not, a limit
// off the chart says so with an arrow.
func (m *model) limitLines(c *chart.Chart, limits []limit, h int) []string {
	sw := m.sideWidth()
	var long, short []string
	for _, l := range limits {
		text, arrow := l.text, ""
		if !c.OnScale(l.v) {
			lo, _ := c.Edges()
			arrow = "↑ "
			if l.v < lo {
				text, arrow = l.text+" (below the chart)", "↓ "
			} else {
				text = l.text + " (above the chart)"
			}
		}
		for i, w := range wrap(text, sw-2) {
			if i > 0 {
				w = "  " + w
			}
			long = append(long, strings.TrimRight(w, " "))
		}
		short = append(short, ansi.Truncate(arrow+l.text, sw, "…"))
	}
	out := short
	if len(long) <= h {
		out = long
	}
	for i, l := range out {
		out[i] = m.styles.Muted.Render(l)
	}
	return out
}

// panelSpec is what a panel's chart shows: its series, the baseline band,
// the expectation and guardrail limits (resolved against the baseline once
// it is known) and the attack markers.
func (m *model) panelSpec(p runbook.Panel, pd *panelData) (chart.Spec, []limit) {
	s, rb := m.run, m.cfg.Runbook
	spec := chart.Spec{From: m.metrics.from, To: m.metrics.to, Origin: s.Start, BandLo: math.NaN(), BandHi: math.NaN(),
		Format: func(v float64) string { return shortValue(v, p.Unit) }}
	if spec.Origin.IsZero() {
		spec.Origin = spec.From
	}
	base := math.NaN()
	if b, ok := s.Baseline[p.Name]; ok {
		spec.BandLo, spec.BandHi = float64(b.Min), float64(b.P95)
		base = float64(b.Median)
	}
	var limits []limit
	if s.Phase == gamedays.PhaseBaseline {
		// While the baseline is measured the steady state is what is
		// judged, so its limits are drawn, not the hypothesis's yet.
		for _, c := range rb.Baseline.SteadyState {
			if c.Panel == p.Name && !c.Threshold.Relative() {
				spec.Expect = append(spec.Expect, c.Threshold.Value)
				limits = append(limits, limit{"steady state " + c.Threshold.Text, c.Threshold.Value})
			}
		}
	}
	for _, c := range s.Expect {
		if c.Panel == p.Name {
			spec.Expect = append(spec.Expect, float64(c.Limit))
			limits = append(limits, limit{"expect " + c.Threshold, float64(c.Limit)})
		}
	}
	if len(s.Expect) == 0 && s.Phase != gamedays.PhaseBaseline {
		for _, c := range rb.Hypothesis.Expect {
			if c.Panel == p.Name && !c.Threshold.Relative() {
				spec.Expect = append(spec.Expect, c.Threshold.Value)
				limits = append(limits, limit{"expect " + c.Threshold.Text, c.Threshold.Value})
			}
		}
	}
	for _, c := range rb.Guardrails.Checks {
		if c.Panel == p.Name && (!c.Threshold.Relative() || !math.IsNaN(base)) {
			spec.Guard = append(spec.Guard, c.Threshold.Limit(base))
			limits = append(limits, limit{"guardrail " + c.Threshold.Text, c.Threshold.Limit(base)})
		}
	}
	spec.Keep = m.phaseLimits(p, base)
	spec.Starts, spec.Stops = attackMarks(s)
	spec.Starts = append(spec.Starts, s.escalations()...)
	if pd != nil {
		for _, sd := range pd.series {
			idx := slices.Index(m.series, sd.name)
			spec.Series = append(spec.Series, chart.Series{Cols: sd.cols, Colour: max(0, idx), Hidden: m.hidden[sd.name]})
		}
	}
	return spec, limits
}

// phaseLimits are the panel's steady-state and hypothesis limits, whatever
// the phase: the chart's scale spans them all so it does not change when
// the phase changes which of them is drawn.
func (m *model) phaseLimits(p runbook.Panel, base float64) []float64 {
	rb := m.cfg.Runbook
	var out []float64
	for _, c := range rb.Baseline.SteadyState {
		if c.Panel == p.Name && !c.Threshold.Relative() {
			out = append(out, c.Threshold.Value)
		}
	}
	for _, c := range rb.Hypothesis.Expect {
		if c.Panel == p.Name && (!c.Threshold.Relative() || !math.IsNaN(base)) {
			out = append(out, c.Threshold.Limit(base))
		}
	}
	return out
}

// limit is a threshold line on a chart, named for the side panel.
type limit struct {
	text string
	v    float64
}

// attackMarks are the times each attack began (its first successful
// inject) and ended (its last member's fault ended: reverted, or seen
// ended early before its rollback).
func attackMarks(s *runState) (starts, stops []time.Time) {
	type span struct {
		start, stop time.Time
		open        bool
	}
	by := map[string]*span{}
	var order []string
	for _, r := range s.Injections {
		sp := by[r.Key.Attack]
		if sp == nil {
			sp = &span{}
			by[r.Key.Attack] = sp
			order = append(order, r.Key.Attack)
		}
		if !r.IntentAt.IsZero() && (sp.start.IsZero() || r.IntentAt.Before(sp.start)) {
			sp.start = r.IntentAt
		}
		if r.Intended && r.Status.MayBeApplied() && r.Status != gamedays.StatusEnded {
			sp.open = true
		}
		end := r.RevertedAt
		if !r.EndedAt.IsZero() && (end.IsZero() || r.EndedAt.Before(end)) {
			end = r.EndedAt // seen ended early: the fault was gone from then
		}
		if end.After(sp.stop) {
			sp.stop = end
		}
	}
	for _, a := range order {
		sp := by[a]
		if !sp.start.IsZero() {
			starts = append(starts, sp.start)
		}
		if !sp.open && !sp.stop.IsZero() {
			stops = append(stops, sp.stop)
		}
	}
	return starts, stops
}

// sidePanel is the legend beside a chart: per series its key, the current
// value, its baseline and the change.
func (m *model) sidePanel(p runbook.Panel, pd *panelData, h int) []string {
	st := m.styles
	sw := m.sideWidth()
	var out []string
	if pd == nil || len(pd.series) == 0 {
		out = append(out, st.Muted.Render("no data yet"))
		if pd != nil && pd.health.LastErr != nil {
			out = append(out, st.Bad.Render(ansi.Truncate(pd.health.LastErr.Error(), sw, "…")))
		}
		return out
	}
	for i, sd := range pd.series {
		// A series takes two rows, and a series that is not the last
		// leaves one for the line saying more follow.
		if need := 2 + min(1, len(pd.series)-1-i); len(out)+need > h {
			out = append(out, st.Muted.Render("…more series"))
			break
		}
		idx := slices.Index(m.series, sd.name)
		name := sd.name
		if name == "" {
			name = p.Name
		}
		label := "[" + itoa(idx+1) + "] " + name
		now := runbook.FormatValue(sd.last, p.Unit)
		if m.hidden[sd.name] {
			out = append(out, st.Muted.Render(ansi.Truncate(label+" hidden", sw, "…")))
		} else {
			label = ansi.Truncate(label, max(1, sw-len(now)-1), "…")
			out = append(out, spread(st.Series[max(0, idx)%len(st.Series)].Render(label), st.Bold.Render(now), sw))
		}
		base := m.run.baseOf(p.Name, sd.name)
		line := "  base " + runbook.FormatValue(base, p.Unit) + "  " + delta(sd.last, base)
		if math.IsNaN(base) {
			line = "  base: not yet"
		}
		out = append(out, st.Muted.Render(ansi.Truncate(line, sw, "…")))
	}
	return out
}

func itoa(n int) string {
	if n < 0 {
		return "?"
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// delta is the change from the baseline in percent, or "n/a" when either
// side is missing.
func delta(v, base float64) string {
	if math.IsNaN(v) || math.IsNaN(base) || math.IsInf(v, 0) {
		return "Δ n/a"
	}
	if base == 0 {
		if v == 0 {
			return "Δ 0%"
		}
		return "Δ new"
	}
	d := (v - base) / math.Abs(base) * 100
	if math.Abs(d) < 0.05 {
		return "Δ 0%"
	}
	sign := "+"
	if d < 0 {
		sign = "-"
	}
	return "Δ" + sign + trimFloat(math.Abs(d)) + "%"
}

func trimFloat(f float64) string {
	if f >= 100 {
		return itoa(int(math.Round(f)))
	}
	r := math.Round(f*10) / 10
	whole := int(r)
	frac := int(math.Round((r - float64(whole)) * 10))
	if frac == 0 {
		return itoa(whole)
	}
	return itoa(whole) + "." + itoa(frac)
}

// shortValue is a Y axis label: FormatValue in ASCII, short enough for the
// fixed label width.
func shortValue(v float64, u runbook.Unit) string {
	s := runbook.FormatValue(v, u)
	s = strings.ReplaceAll(s, "µ", "u")
	s = strings.ReplaceAll(s, " ", "")
	return s
}

// chartsView lays the charts and their side panels out in h rows.
func (m *model) chartsView(h int) []string {
	rb := m.cfg.Runbook
	if rb == nil || h <= 0 {
		return nil
	}
	st := m.styles
	cw, sw := m.chartWidth(), m.sideWidth()
	var out []string
	hiddenPanels := 0
	for _, p := range rb.Metrics.Panels {
		pc := m.charts[p.Name]
		if pc == nil || len(pc.lines) == 0 {
			hiddenPanels++
			continue
		}
		title := st.Bold.Render(pc.title)
		if p.Unit != runbook.UnitNone {
			title += st.Muted.Render(" (" + string(p.Unit) + ")")
		}
		out = append(out, title+st.Muted.Render(legendFor(m.width-ansi.StringWidth(title))))
		for i, l := range pc.lines {
			side := ""
			if i < len(pc.side) {
				side = pc.side[i]
			}
			out = append(out, pad(l, cw)+" "+pad(side, sw))
		}
	}
	if hiddenPanels > 0 && len(out) < h {
		out = append(out, st.Muted.Render("("+itoa(hiddenPanels)+" more panel(s): enlarge the terminal to see them)"))
	}
	return out
}

// legend and legendShort say what the marks on every chart mean, in
// long and short words.
var (
	legend      = []string{"· baseline band", "╌ expectation", "━ guardrail", "│ attack start", "┆ stop"}
	legendShort = []string{"· baseline", "╌ expect", "━ guardrail", "│ start", "┆ stop"}
)

// legendFor is the legend in w cells: the long words if they fit, else as
// many of the short marks as fit whole, never a cut word.
func legendFor(w int) string {
	if l := "  " + strings.Join(legend, "  "); ansi.StringWidth(l) <= w {
		return l
	}
	out, sep := "", "  "
	for _, e := range legendShort {
		next := out + sep + e
		if ansi.StringWidth(next) > w {
			break
		}
		out, sep = next, " "
	}
	return out
}

// pad cuts or fills s to exactly w cells.
func pad(s string, w int) string {
	w = max(0, w)
	n := ansi.StringWidth(s)
	if n > w {
		// A cut line says it was cut.
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-n)
}

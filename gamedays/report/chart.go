package report

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gameday/gameday/runbook"
)

// span is a stretch of the run in seconds since its start.
type span struct {
	name     string
	from, to float64
}

type hline struct {
	label string
	y     float64
	col   string
}

type xy struct{ x, y float64 }

type chartSeries struct {
	name string
	pts  []xy // sorted by x
}

type chartPanel struct {
	name, title string
	unit        runbook.Unit
	series      []chartSeries
	lines       []hline
}

// chartData is what the charts draw, gathered once by Build.
type chartData struct {
	duration float64
	phases   []span
	stages   []span // a staged run's stages, named by their result
	attacks  []span
	// endedEarly says an attack's span ends where its fault was seen
	// ended early, before its rollback.
	endedEarly bool
	aborts     []float64
	alerts     []alertMark
	panels     []chartPanel
}

// alertMark is one alert reaching one state, in seconds since the start.
type alertMark struct {
	t           float64
	name, state string
}

// Chart size in points; the HTML scales it to the page width.
const (
	chartWidth  float64 = 720
	chartHeight float64 = 244.8
	// The plotting area inside the chart: room on the left for value
	// labels, above for the title, below for the time axis.
	plotLeft   = 40
	plotRight  = chartWidth - 20
	plotTop    = 20
	plotBottom = chartHeight - 30
	plotWidth  = plotRight - plotLeft
	// columns is about how many pixel columns the plotting area spans at
	// the chart's natural size: downsampling to two points per column keeps
	// every peak and dip that could be seen.
	columns = 900
)

// The charts name a font family and embed none: every browser and viewer
// has a sans-serif, and the page stays small.
const chartFont = `Liberation Sans, Arial, Helvetica, sans-serif`

var (
	colGuardrail = "#c01010"
	colExpect    = "#1a7f37"
	colAbort     = "#8b0000"
	colAttack    = "#f08c28" // drawn at colAttackOpacity
	colAlert     = "#7b2cbf"
	// alertDash tells an alert's states apart on one colour: pending
	// dashed, firing solid, paged dotted, resolved in long dashes.
	alertDash = map[string]string{"pending": "4 3", "firing": "", "notified": "1 2", "resolved": "8 3"}
	colSeries = []string{"#1f4e9c", "#6a3d9a", "#00838f", "#5d5d5d", "#a6376a"}
	// Phase bands alternate two light tones so that neighbours stay apart in
	// print; an aborted stretch is tinted red.
	colPhase   = []string{"#f2f4f7", "#e4e8ee"}
	colAborted = "#fbe4e4"
	// Stage bands: green for a stage that held, red for the one that
	// broke, none for one cut short; a grey rule marks each stage's start.
	colStageHeld  = "#e3f2e6"
	colStageBroke = "#f9dede"
	colStageRule  = "#707070"
)

const colAttackOpacity = 0.28

func (b *builder) chartData() {
	r := b.r
	cd := chartData{duration: math.Max(r.Duration, 1), phases: b.phases}
	byName := map[string]*span{}
	var order []string
	for _, a := range r.Attacks {
		if a.InjectedAt == nil {
			continue
		}
		from, to := b.t(*a.InjectedAt), r.Duration
		if a.RolledBackAt != nil {
			to = b.t(*a.RolledBackAt)
		}
		if a.EndedEarly != "" && a.EndedAt != nil {
			// The fault was gone before its rollback: the span shows
			// when it was there, not when gameday confirmed it gone.
			to = b.t(*a.EndedAt)
			cd.endedEarly = true
		}
		s, ok := byName[a.Name]
		if !ok {
			s = &span{name: a.Name, from: from, to: to}
			byName[a.Name] = s
			order = append(order, a.Name)
		}
		s.from, s.to = math.Min(s.from, from), math.Max(s.to, to)
	}
	for _, n := range order {
		cd.attacks = append(cd.attacks, *byName[n])
	}
	for _, a := range r.Aborts {
		cd.aborts = append(cd.aborts, a.T)
	}
	cd.stages = stageSpans(r.Stages, cd.aborts, r.Duration)
	cd.alerts = b.alertMarks()
	for _, p := range r.Panels {
		cp := chartPanel{name: p.Name, title: p.Title, unit: runbook.Unit(p.Unit)}
		var names []string
		for s := range b.samples[p.Name] {
			names = append(names, s)
		}
		sort.Strings(names)
		for _, s := range names {
			raw := b.samples[p.Name][s]
			pts := make([]xy, 0, len(raw))
			for _, pt := range raw {
				if v := pt.V; !math.IsNaN(v) && !math.IsInf(v, 0) {
					pts = append(pts, xy{b.t(pt.T), v})
				}
			}
			slices.SortStableFunc(pts, func(a, b xy) int {
				switch {
				case a.x < b.x:
					return -1
				case a.x > b.x:
					return 1
				}
				return 0
			})
			cp.series = append(cp.series, chartSeries{name: s, pts: pts})
		}
		for _, e := range r.Hypothesis.Expectations {
			if e.Panel == p.Name && finite(float64(e.Limit)) {
				cp.lines = append(cp.lines, hline{"expect " + e.Threshold, float64(e.Limit), colExpect})
			}
		}
		for _, g := range r.Guardrails {
			if g.Panel == p.Name && finite(float64(g.Limit)) {
				cp.lines = append(cp.lines, hline{"guardrail " + g.Threshold, float64(g.Limit), colGuardrail})
			}
		}
		cd.panels = append(cd.panels, cp)
	}
	r.charts = cd
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// downsample cuts a sorted series to at most two points per pixel column,
// the lowest and the highest in time order, so a one-sample spike in an
// eight-hour run is still drawn. A pause in the data longer than gap
// splits the series, so a missing stretch is a break in the line, never a
// straight line across it.
func downsample(pts []xy, x0, x1 float64, cols int, gap float64) [][]xy {
	if len(pts) == 0 {
		return nil
	}
	width := (x1 - x0) / float64(cols)
	if width <= 0 {
		width = 1
	}
	var out [][]xy
	var seg []xy
	col := math.MinInt
	var lo, hi xy
	flush := func() {
		if col == math.MinInt {
			return
		}
		switch {
		case lo == hi:
			seg = append(seg, lo)
		case lo.x < hi.x:
			seg = append(seg, lo, hi)
		default:
			seg = append(seg, hi, lo)
		}
	}
	prev := pts[0].x
	for _, p := range pts {
		if p.x-prev > gap {
			flush()
			out = append(out, seg)
			seg, col = nil, math.MinInt
		}
		prev = p.x
		c := int(math.Floor((p.x - x0) / width))
		if c != col {
			flush()
			col, lo, hi = c, p, p
			continue
		}
		if p.y < lo.y {
			lo = p
		}
		if p.y > hi.y {
			hi = p
		}
	}
	flush()
	return append(out, seg)
}

// step is the usual distance between samples: the median gap.
func step(pts []xy) float64 {
	if len(pts) < 2 {
		return 0
	}
	n := min(len(pts)-1, 1000)
	d := make([]float64, n)
	for i := range n {
		d[i] = pts[i+1].x - pts[i].x
	}
	slices.Sort(d)
	return d[n/2]
}

// chart is panel i's SVG, drawn once and kept: Markdown and HTML share it.
func (r *Report) chart(i int) ([]byte, error) {
	if r.svgs == nil {
		r.svgs = map[int][]byte{}
	}
	if svg, ok := r.svgs[i]; ok {
		return svg, nil
	}
	svg, err := r.charts.svgChart(r.charts.panels[i])
	if err != nil {
		return nil, err
	}
	r.svgs[i] = svg
	return svg, nil
}

// svgChart draws one panel over the whole run.
func (cd chartData) svgChart(cp chartPanel) ([]byte, error) {
	lo, hi, drawn, title, off := cp.scale()
	// Head room for the phase names, in up to two rows, above the data.
	top := hi + (hi-lo)*0.24
	c := &canvas{x1: cd.duration, y0: lo, y1: top}

	c.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%gpt" height="%gpt" viewBox="0 0 %g %g" font-family="%s">`+"\n",
		chartWidth, chartHeight, chartWidth, chartHeight, chartFont)
	c.printf(`<rect width="%g" height="%g" fill="#ffffff"/>`+"\n", chartWidth, chartHeight)
	c.text(chartWidth/2, 13, "middle", "12", "#000000", title, ` font-weight="bold"`)
	cd.bands(c, lo, top)

	xticks, yticks := elapsedTicks(0, cd.duration), valueTicks(lo, top, cp.unit)
	for _, t := range xticks {
		c.line(c.x(t.value), plotTop, c.x(t.value), plotBottom, "#c8c8c8", 0.5, "")
	}
	for _, t := range yticks {
		if t.label != "" {
			c.line(plotLeft, c.y(t.value), plotRight, c.y(t.value), "#c8c8c8", 0.5, "")
		}
	}
	cd.lines(c, cp, drawn, hi, top)
	cd.alertLines(c)
	// Axes last, so bands never cover them.
	axes(c, xticks, yticks)
	if len(off) > 0 {
		// Said in words under the chart: a line the scale leaves out is
		// still a limit the run was held to.
		c.text(plotLeft, chartHeight-3, "start", "8", colGuardrail, "Not drawn, far above the data: "+strings.Join(off, "; "), ` class="off-chart"`)
	}
	c.printf("</svg>\n")
	return c.buf.Bytes(), nil
}

// scale is the panel's value range: its data and the limits near enough
// to draw. A limit far above the data would flatten it; such a line is
// not drawn but listed in off, to be said in words.
func (cp chartPanel) scale() (lo, hi float64, drawn []hline, title string, off []string) {
	title = cp.title
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range cp.series {
		for _, pt := range s.pts {
			lo, hi = math.Min(lo, pt.y), math.Max(hi, pt.y)
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0, 1
	}
	dataHi := hi
	for _, l := range cp.lines {
		if l.y <= 5*dataHi || dataHi <= 0 {
			drawn = append(drawn, l)
			lo, hi = math.Min(lo, l.y), math.Max(hi, l.y)
		} else {
			off = append(off, l.label+" ("+runbook.FormatValue(l.y, cp.unit)+")")
		}
	}
	if len(cp.series) > 1 {
		var names []string
		for _, s := range cp.series {
			names = append(names, s.name)
		}
		title += " by " + strings.Join(names, ", ")
	}
	lo = math.Min(lo, 0)
	if hi <= lo {
		hi = lo + 1
	}
	return lo, hi, drawn, title, off
}

// bands shades the phases and the attacks, each over the whole height of
// the plot. Every phase is named: where its band is too narrow for its
// name, the name moves right, to a second row if the first is taken, and
// a thin line ties it to its band.
func (cd chartData) bands(c *canvas, lo, top float64) {
	// The second row of names is below the stages' names (plotTop+19).
	rows := []float64{plotTop + 9, plotTop + 29}
	ends := make([]float64, len(rows)) // where each row's last name ends
	for i := range ends {
		ends[i] = math.Inf(-1)
	}
	for i, ph := range cd.phases {
		col := colPhase[i%2]
		if ph.name == "aborted" {
			col = colAborted
		}
		c.rect(ph.from, ph.to, lo, top, col, fmt.Sprintf(` class="phase" data-phase="%s"`, htmlAttr(ph.name)))
	}
	// The stages lie within the run phase: shaded over its band, under
	// its name.
	cd.stageBands(c, lo, top)
	for _, a := range cd.attacks {
		c.rect(a.from, math.Max(a.to, a.from+cd.duration/500), lo, top, colAttack,
			fmt.Sprintf(` class="attack" data-attack="%s" fill-opacity="%g"`, htmlAttr(a.name), colAttackOpacity))
		c.text(c.x(a.from)+2, c.y(lo)-2, "start", "8", "#9a4500", "attack: "+a.name, "")
	}
	// Names after every band, so no band is painted over a name that
	// spills past its own.
	for _, ph := range cd.phases {
		x0, x1 := c.x(ph.from), c.x(ph.to)
		w := labelWidth(ph.name)
		// The first row where the name fits at the band's start, else
		// the row whose last name ends first, after it.
		row := 0
		for r := range rows {
			if ends[r]+4 <= x0+2 {
				row = r
				break
			}
			if ends[r] < ends[row] {
				row = r
			}
		}
		x := math.Max(x0+2, ends[row]+4)
		if x+w > plotRight {
			x = plotRight - w
		}
		ends[row] = x + w
		c.text(x, rows[row], "start", "8", "#404040", ph.name, fmt.Sprintf(` class="phase-label" data-phase="%s"`, htmlAttr(ph.name)))
		if x+w > x1 {
			// A name wider than its band is tied to it, so it is not
			// read as the next band's.
			c.line(x, rows[row]+2, (x0+x1)/2, rows[len(rows)-1]+8, "#404040", 0.5, ` class="phase-tie" data-phase="`+htmlAttr(ph.name)+`"`)
		}
	}
}

// labelWidth is about how wide a name is at 8pt in the chart's font.
func labelWidth(s string) float64 { return float64(len(s))*4.6 + 2 }

// lines draws the series, the limits and the aborts.
func (cd chartData) lines(c *canvas, cp chartPanel, drawn []hline, hi, top float64) {
	for i, s := range cp.series {
		col := colSeries[i%len(colSeries)]
		gap := math.Max(step(s.pts)*2.5, cd.duration/float64(columns))
		for _, seg := range downsample(s.pts, 0, cd.duration, columns, gap) {
			if len(seg) == 1 {
				// A lone point still has to show.
				seg = append(seg, xy{seg[0].x + cd.duration/float64(columns), seg[0].y})
			}
			c.path(seg, col)
		}
	}
	for _, l := range drawn {
		c.line(plotLeft, c.y(l.y), plotRight, c.y(l.y), l.col, 1, ` stroke-dasharray="5 3"`)
		c.text(c.x(cd.duration/400), c.y(l.y)-2, "start", "8", l.col, l.label, "")
	}
	for _, t := range cd.aborts {
		c.line(c.x(t), plotTop, c.x(t), plotBottom, colAbort, 2, "")
		// Beside the line, on the left where the right has no room.
		x, anchor := c.x(t)+2, "start"
		if x+30 > chartWidth {
			x, anchor = c.x(t)-3, "end"
		}
		c.text(x, c.y(hi+(top-hi)*0.3)+3, anchor, "8", colAbort, "ABORT", "")
	}
}

// alertMarks are the first time each alert reached each state that the
// charts mark (Alertmanager's "received" is left to the alerts table).
func (b *builder) alertMarks() []alertMark {
	seen := map[string]bool{}
	var out []alertMark
	for _, m := range b.st.AlertMarks {
		if _, ok := alertDash[m.State]; !ok || seen[m.Name+"\x00"+m.State] {
			continue
		}
		seen[m.Name+"\x00"+m.State] = true
		out = append(out, alertMark{t: b.t(m.At), name: m.Name, state: m.State})
	}
	return out
}

// alertLines draws each alert transition as a thin vertical line, named
// below the phase names; labels step down so neighbours stay readable.
func (cd chartData) alertLines(c *canvas) {
	for i, m := range cd.alerts {
		if m.t < 0 || m.t > cd.duration {
			continue
		}
		extra := ""
		if d := alertDash[m.state]; d != "" {
			extra = fmt.Sprintf(` stroke-dasharray="%s"`, d)
		}
		c.line(c.x(m.t), plotTop, c.x(m.t), plotBottom, colAlert, 1, extra)
		word := m.state
		if word == "notified" {
			word = "paged"
		}
		x, anchor := c.x(m.t)+2, "start"
		if x+100 > chartWidth {
			x, anchor = c.x(m.t)-3, "end"
		}
		c.text(x, plotTop+20+float64(i%4)*9, anchor, "7", colAlert, m.name+" "+word, "")
	}
}

// axes draws both axes with their ticks and labels.
func axes(c *canvas, xticks, yticks []tick) {
	c.line(plotLeft, plotBottom+3, plotRight, plotBottom+3, "#000000", 0.5, "")
	for _, t := range xticks {
		x := c.x(t.value)
		c.line(x, plotBottom+3, x, plotBottom+7, "#000000", 0.5, "")
		c.text(x, plotBottom+15, "middle", "8", "#000000", t.label, "")
	}
	c.text((plotLeft+plotRight)/2, chartHeight-3, "middle", "9", "#000000", "time since the run started", "")
	valueAxis(c, yticks)
}

// valueAxis draws the value axis on the left with its ticks and labels.
func valueAxis(c *canvas, yticks []tick) {
	c.line(plotLeft-3, plotTop, plotLeft-3, plotBottom, "#000000", 0.5, "")
	for _, t := range yticks {
		y := c.y(t.value)
		if t.label == "" {
			c.line(plotLeft-5, y, plotLeft-3, y, "#000000", 0.5, "")
			continue
		}
		c.line(plotLeft-7, y, plotLeft-3, y, "#000000", 0.5, "")
		c.text(plotLeft-8, y+3, "end", "8", "#000000", t.label, "")
	}
}

// canvas writes SVG elements, mapping data coordinates (seconds, panel
// values) into the plotting area.
type canvas struct {
	buf        bytes.Buffer
	x1, y0, y1 float64 // data at the right edge, the bottom and the top
}

func (c *canvas) x(v float64) float64 { return plotLeft + v/c.x1*plotWidth }
func (c *canvas) y(v float64) float64 {
	return plotBottom - (v-c.y0)/(c.y1-c.y0)*(plotBottom-plotTop)
}

func (c *canvas) printf(format string, args ...any) { fmt.Fprintf(&c.buf, format, args...) }

// rect fills the band between two times and two values.
func (c *canvas) rect(x0, x1, y0, y1 float64, fill, extra string) {
	left, right := c.x(x0), c.x(x1)
	upper, lower := c.y(y1), c.y(y0)
	c.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"%s/>`+"\n",
		num(left), num(upper), num(right-left), num(lower-upper), fill, extra)
}

// line draws between two points already in chart coordinates.
func (c *canvas) line(x0, y0, x1, y1 float64, stroke string, width float64, extra string) {
	c.printf(`<path d="M%s,%sL%s,%s" fill="none" stroke="%s" stroke-width="%g"%s/>`+"\n",
		num(x0), num(y0), num(x1), num(y1), stroke, width, extra)
}

// path draws a data series as one line.
func (c *canvas) path(pts []xy, stroke string) {
	c.polyline(pts, fmt.Sprintf(`stroke="%s" stroke-width="1.2" stroke-linejoin="round"`, stroke))
}

// text writes s with its baseline at y; anchor is start, middle or end.
func (c *canvas) text(x, y float64, anchor, size, fill, s, extra string) {
	c.printf(`<text x="%s" y="%s" text-anchor="%s" font-size="%s" fill="%s"%s>%s</text>`+"\n",
		num(x), num(y), anchor, size, fill, extra, htmlAttr(s))
}

// num writes a coordinate to a hundredth of a point, which no screen or
// printer shows, without trailing zeros.
func num(v float64) string {
	s := strconv.FormatFloat(math.Round(v*100)/100, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// tick is a place on an axis; one without a label is a minor tick.
type tick struct {
	value float64
	label string
}

// valueTicks puts four to eight labelled ticks at round values (1, 2 or 5
// times a power of ten), written in the panel's unit.
func valueTicks(lo, hi float64, unit runbook.Unit) []tick {
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return []tick{{lo, runbook.FormatValue(lo, unit)}}
	}
	mag := math.Pow(10, math.Floor(math.Log10(span)))
	step := mag
	for _, m := range []float64{0.1, 0.2, 0.5, 1, 2, 5} {
		if span/(m*mag) <= 8 {
			step = m * mag
			break
		}
	}
	var ticks []tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, tick{v, runbook.FormatValue(v, unit)})
		if minor := v + step/2; minor < hi {
			ticks = append(ticks, tick{value: minor})
		}
	}
	return ticks
}

// elapsedTicks labels the time axis T+h:mm:ss, at steps people count in.
func elapsedTicks(lo, hi float64) []tick {
	steps := []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400}
	major := steps[len(steps)-1]
	for _, s := range steps {
		if (hi-lo)/s <= 8 {
			major = s
			break
		}
	}
	var ticks []tick
	for t := math.Ceil(lo/major) * major; t <= hi; t += major {
		ticks = append(ticks, tick{t, "T+" + clock(t)})
	}
	return ticks
}

// clock writes seconds as h:mm:ss, or m:ss under an hour.
func clock(s float64) string {
	n := int64(math.Round(s))
	neg := ""
	if n < 0 {
		neg, n = "-", -n
	}
	if n >= 3600 {
		return fmt.Sprintf("%s%d:%02d:%02d", neg, n/3600, n%3600/60, n%60)
	}
	return fmt.Sprintf("%s%d:%02d", neg, n/60, n%60)
}

var svgProlog = regexp.MustCompile(`(?s)^<\?xml[^>]*\?>\s*(<!--.*?-->\s*)?`)

// inlineSVG makes a chart fit to go inside an HTML page: no XML prolog, and
// a size set by the page's CSS rather than fixed points.
func inlineSVG(svg []byte, title string) []byte {
	svg = svgProlog.ReplaceAll(svg, nil)
	head := bytes.IndexByte(svg, '>')
	if head < 0 {
		return svg
	}
	open := string(svg[:head])
	open = regexp.MustCompile(`\s(width|height)="[^"]*"`).ReplaceAllString(open, "")
	open += fmt.Sprintf(` role="img" aria-label="%s" preserveAspectRatio="xMidYMid meet"`, htmlAttr(title))
	return append([]byte(open), svg[head:]...)
}

func htmlAttr(s string) string {
	return strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `<`, "&lt;", `>`, "&gt;").Replace(s)
}

// stageSpans are the stages that started, each from its start to its
// judgement; one cut short ends at the abort, else at the end of the run.
func stageSpans(stages []Stage, aborts []float64, end float64) []span {
	var out []span
	for _, st := range stages {
		if st.From == nil {
			continue
		}
		to := end
		if st.To != nil {
			to = *st.To
		} else if len(aborts) > 0 {
			to = aborts[0]
		}
		out = append(out, span{name: fmt.Sprintf("stage %d %s", st.Stage, stageWord(st.Result)), from: *st.From, to: math.Max(to, *st.From)})
	}
	return out
}

// stageWord is how a stage's band is labelled.
func stageWord(result string) string {
	if result == StageRefuted {
		return "broke"
	}
	return result
}

// stageBands shades each stage of a staged run by its result, under the
// attacks, rules its start and names it below the phase names where the
// band is wide enough (else its number alone).
func (cd chartData) stageBands(c *canvas, lo, top float64) {
	for _, st := range cd.stages {
		switch {
		case strings.HasSuffix(st.name, " held"):
			c.rect(st.from, st.to, lo, top, colStageHeld, "")
		case strings.HasSuffix(st.name, " broke"):
			c.rect(st.from, st.to, lo, top, colStageBroke, "")
		}
		c.line(c.x(st.from), plotTop+11, c.x(st.from), plotBottom, colStageRule, 0.8, ` stroke-dasharray="2 2"`)
		label := st.name
		if (st.to-st.from)/cd.duration*plotWidth < float64(len(label))*4.6+6 {
			label, _, _ = strings.Cut(strings.TrimPrefix(label, "stage "), " ")
		}
		c.text(c.x(st.from)+2, plotTop+19, "start", "8", "#303030", label, "")
	}
}

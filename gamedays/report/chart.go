package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/gameday/gameday/runbook"
	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// span is a stretch of the run in seconds since its start.
type span struct {
	name     string
	from, to float64
}

type hline struct {
	label string
	y     float64
	col   color.Color
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
	attacks  []span
	aborts   []float64
	panels   []chartPanel
}

// Chart size in points; the HTML scales it to the page width.
const (
	chartWidth  = 10 * vg.Inch
	chartHeight = 3.4 * vg.Inch
	// columns is about how many pixel columns the plotting area spans at
	// the chart's natural size: downsampling to two points per column keeps
	// every peak and dip that could be seen.
	columns = 900
	// plotWidth is about how wide the plotting area is, in points.
	plotWidth = 680
)

var (
	colGuardrail = color.RGBA{R: 0xc0, G: 0x10, B: 0x10, A: 0xff}
	colExpect    = color.RGBA{R: 0x1a, G: 0x7f, B: 0x37, A: 0xff}
	colAbort     = color.RGBA{R: 0x8b, G: 0x00, B: 0x00, A: 0xff}
	colAttack    = color.NRGBA{R: 0xf0, G: 0x8c, B: 0x28, A: 0x48}
	colSeries    = []color.Color{
		color.RGBA{R: 0x1f, G: 0x4e, B: 0x9c, A: 0xff},
		color.RGBA{R: 0x6a, G: 0x3d, B: 0x9a, A: 0xff},
		color.RGBA{R: 0x00, G: 0x83, B: 0x8f, A: 0xff},
		color.RGBA{R: 0x5d, G: 0x5d, B: 0x5d, A: 0xff},
		color.RGBA{R: 0xa6, G: 0x37, B: 0x6a, A: 0xff},
	}
	// Phase bands alternate two light tones so that neighbours stay apart in
	// print; an aborted stretch is tinted red.
	colPhase   = []color.Color{color.RGBA{R: 0xf2, G: 0xf4, B: 0xf7, A: 0xff}, color.RGBA{R: 0xe4, G: 0xe8, B: 0xee, A: 0xff}}
	colAborted = color.RGBA{R: 0xfb, G: 0xe4, B: 0xe4, A: 0xff}
)

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
	p := plot.New()
	sans := font.Font{Typeface: "Liberation", Variant: "Sans"}
	p.Title.Text = cp.title
	bold := sans
	bold.Weight = xfont.WeightBold
	p.Title.TextStyle.Font = font.From(bold, 12)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 9)
		a.Tick.Label.Font = font.From(sans, 8)
	}
	p.X.Label.Text = "time since the run started"
	p.X.Min, p.X.Max = 0, cd.duration
	p.X.Tick.Marker = plot.TickerFunc(elapsedTicks)
	unit := cp.unit
	p.Y.Tick.Marker = plot.TickerFunc(func(lo, hi float64) []plot.Tick { return valueTicks(lo, hi, unit) })

	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range cp.series {
		for _, pt := range s.pts {
			lo, hi = math.Min(lo, pt.y), math.Max(hi, pt.y)
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0, 1
	}
	// A limit far above the data would flatten it; such a line is named in
	// the title instead of drawn.
	var drawn []hline
	var above []string
	dataHi := hi
	for _, l := range cp.lines {
		if l.y <= 5*dataHi || dataHi <= 0 {
			drawn = append(drawn, l)
			lo, hi = math.Min(lo, l.y), math.Max(hi, l.y)
		} else {
			above = append(above, l.label)
		}
	}
	if len(above) > 0 {
		p.Title.Text += "  (above the chart: " + strings.Join(above, ", ") + ")"
	}
	lo = math.Min(lo, 0)
	if hi <= lo {
		hi = lo + 1
	}
	// Head room for the phase names above the data.
	top := hi + (hi-lo)*0.18
	p.Y.Min, p.Y.Max = lo, top

	var labels plotter.XYLabels
	var styles []text.Style
	label := func(x, y float64, s string, col color.Color, xa text.XAlignment, ya text.YAlignment) {
		labels.XYs = append(labels.XYs, plotter.XY{X: x, Y: y})
		labels.Labels = append(labels.Labels, s)
		styles = append(styles, text.Style{Color: col, Font: font.From(sans, 8), XAlign: xa, YAlign: ya, Handler: plot.DefaultTextHandler})
	}
	for i, ph := range cd.phases {
		col := colPhase[i%2]
		if ph.name == "aborted" {
			col = colAborted
		}
		if err := addRect(p, ph.from, ph.to, lo, top, col); err != nil {
			return nil, err
		}
		// A name is written only where its band is wide enough to hold it.
		if (ph.to-ph.from)/cd.duration*plotWidth >= float64(len(ph.name))*4.6+6 {
			label(ph.from+cd.duration/400, top, ph.name, color.Gray{Y: 0x40}, draw.XLeft, draw.YTop)
		}
	}
	for _, a := range cd.attacks {
		if err := addRect(p, a.from, math.Max(a.to, a.from+cd.duration/500), lo, hi, colAttack); err != nil {
			return nil, err
		}
		label(a.from+cd.duration/400, lo+(hi-lo)*0.02, "attack: "+a.name, color.RGBA{R: 0x9a, G: 0x45, B: 0x00, A: 0xff}, draw.XLeft, draw.YBottom)
	}
	for i, s := range cp.series {
		gap := math.Max(step(s.pts)*2.5, cd.duration/float64(columns))
		for _, seg := range downsample(s.pts, 0, cd.duration, columns, gap) {
			xys := make(plotter.XYs, len(seg))
			for j, pt := range seg {
				xys[j] = plotter.XY{X: pt.x, Y: pt.y}
			}
			if len(xys) == 1 {
				// A lone point still has to show.
				xys = append(xys, plotter.XY{X: xys[0].X + cd.duration/float64(columns), Y: xys[0].Y})
			}
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, fmt.Errorf("chart %s: %w", cp.name, err)
			}
			l.Color = colSeries[i%len(colSeries)]
			l.Width = vg.Points(1.2)
			p.Add(l)
		}
	}
	for _, l := range drawn {
		line, err := plotter.NewLine(plotter.XYs{{X: 0, Y: l.y}, {X: cd.duration, Y: l.y}})
		if err != nil {
			return nil, err
		}
		line.Color, line.Width, line.Dashes = l.col, vg.Points(1), []vg.Length{vg.Points(5), vg.Points(3)}
		p.Add(line)
		label(cd.duration/400, l.y, l.label, l.col, draw.XLeft, draw.YBottom)
	}
	for _, t := range cd.aborts {
		line, err := plotter.NewLine(plotter.XYs{{X: t, Y: lo}, {X: t, Y: top}})
		if err != nil {
			return nil, err
		}
		line.Color, line.Width = colAbort, vg.Points(2)
		p.Add(line)
		label(t, hi+(top-hi)*0.3, " ABORT", colAbort, draw.XLeft, draw.YCenter)
	}
	if len(cp.series) > 1 {
		var names []string
		for _, s := range cp.series {
			names = append(names, s.name)
		}
		p.Title.Text += " by " + strings.Join(names, ", ")
	}
	if len(labels.XYs) > 0 {
		ls, err := plotter.NewLabels(labels)
		if err != nil {
			return nil, err
		}
		ls.TextStyle = styles
		p.Add(ls)
	}
	p.Add(plotter.NewGrid())

	c := vgsvg.New(chartWidth, chartHeight)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart %s: %w", cp.name, err)
	}
	return buf.Bytes(), nil
}

func addRect(p *plot.Plot, x0, x1, y0, y1 float64, col color.Color) error {
	poly, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
	if err != nil {
		return err
	}
	poly.Color = col
	poly.LineStyle.Width = 0
	p.Add(poly)
	return nil
}

// valueTicks puts four to eight labelled ticks at round values (1, 2 or 5
// times a power of ten), written in the panel's unit.
func valueTicks(lo, hi float64, unit runbook.Unit) []plot.Tick {
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return []plot.Tick{{Value: lo, Label: runbook.FormatValue(lo, unit)}}
	}
	mag := math.Pow(10, math.Floor(math.Log10(span)))
	step := mag
	for _, m := range []float64{0.1, 0.2, 0.5, 1, 2, 5} {
		if span/(m*mag) <= 8 {
			step = m * mag
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: runbook.FormatValue(v, unit)})
		if minor := v + step/2; minor < hi {
			ticks = append(ticks, plot.Tick{Value: minor})
		}
	}
	return ticks
}

// elapsedTicks labels the time axis T+h:mm:ss, at steps people count in.
func elapsedTicks(lo, hi float64) []plot.Tick {
	steps := []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400}
	major := steps[len(steps)-1]
	for _, s := range steps {
		if (hi-lo)/s <= 8 {
			major = s
			break
		}
	}
	var ticks []plot.Tick
	for t := math.Ceil(lo/major) * major; t <= hi; t += major {
		ticks = append(ticks, plot.Tick{Value: t, Label: "T+" + clock(t)})
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

package chart

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/linechart/timeserieslinechart"
)

// Class is what a cell of the chart shows; the caller styles each class.
type Class uint8

// Cell classes, in increasing precedence inside the plot area. Series take
// the classes from Series0 on, one per colour.
const (
	None Class = iota
	Axis
	Label
	Band
	Expect
	Guard
	Start
	Stop
	Series0
)

// Colours is how many series colours there are; further series reuse them.
const Colours = 6

// LabelWidth is the width of the Y axis labels. It is fixed so that the
// plot width, and with it the number of columns to downsample to, is known
// before the data is.
const LabelWidth = 7

// Series is one line: its downsampled columns, oldest first.
type Series struct {
	Cols   []Column
	Colour int
	Hidden bool
}

// Spec is everything one frame of a chart shows.
type Spec struct {
	From, To time.Time
	// Origin is T+0 for the time labels.
	Origin time.Time
	Series []Series
	// BandLo..BandHi is the baseline band; NaN for none.
	BandLo, BandHi float64
	// Expect and Guard are horizontal limit lines; NaN entries are skipped.
	Expect, Guard []float64
	// Keep are limits of other phases: not drawn, but the scale spans
	// them as it would an expectation, so it does not jump when the
	// phase changes which limits are drawn.
	Keep []float64
	// Starts and Stops mark when attacks began and ended.
	Starts, Stops []time.Time
	// Format writes a Y value; it should be short and ASCII.
	Format func(float64) string
}

// PlotColumns is how many pixel columns a chart of width w plots: two
// braille dots per cell of the plot area.
func PlotColumns(w int) int { return 2 * max(0, w-LabelWidth-1) }

// Chart is a panel's chart: an ntcharts time-series line chart draws the
// axes and time labels, and the plot area is filled from the downsampled
// columns, the baseline band, limit lines and attack markers.
type Chart struct {
	w, h   int
	lc     timeserieslinechart.Model
	format func(float64) string
	origin time.Time
	// Plot area, one entry per cell, row-major.
	dots []uint8
	cls  []Class
	// The plot area's Y scale.
	sc scale
}

// New returns a chart of w×h cells (axes and labels included).
func New(w, h int) *Chart {
	c := &Chart{format: func(v float64) string { return "" }}
	c.lc = timeserieslinechart.New(max(1, w), max(1, h),
		timeserieslinechart.WithXYSteps(12, 2),
		timeserieslinechart.WithXLabelFormatter(c.xLabel),
		timeserieslinechart.WithYLabelFormatter(blankLabel))
	c.Resize(w, h)
	return c
}

func (c *Chart) xLabel(_ int, v float64) string {
	d := (time.Duration(v*float64(time.Second)) - time.Duration(c.origin.UnixNano())).Round(time.Second)
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	s := int64(d / time.Second)
	return sign + two(s/60) + ":" + two(s%60)
}

func two(n int64) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// blankLabel keeps ntcharts' own Y labels out: they sit at fractions of
// the range that match no row. Its width fixes the plot's left edge.
func blankLabel(int, float64) string { return blank }

var blank = strings.Repeat(" ", LabelWidth)

// yLabel pads a label to LabelWidth so the plot never shifts.
func (c *Chart) yLabel(v float64) string {
	s := c.format(v)
	if len(s) > LabelWidth {
		s = s[:LabelWidth]
	}
	return blank[:LabelWidth-len(s)] + s
}

// drawYLabels writes each tick's label on the row of its value.
func (c *Chart) drawYLabels() {
	ox := c.lc.Origin().X
	for i := range c.sc.ticks() {
		v := c.sc.tick(i)
		c.lc.Canvas.SetString(canvas.Point{X: max(0, ox-LabelWidth), Y: c.sc.row(v)}, c.yLabel(v))
	}
}

// labelLimit writes a limit's own value beside its line when the row it
// lies on stands for another value: on a short chart a row spans a wide
// range, and a line at 250ms beside a 300ms label would say the limit is
// higher than it is.
func (c *Chart) labelLimit(v float64) {
	r := c.sc.row(v)
	if math.Abs(c.sc.value(r)-v) <= c.sc.unit*1e-6 {
		return
	}
	c.lc.Canvas.SetString(canvas.Point{X: max(0, c.lc.Origin().X-LabelWidth), Y: r}, c.yLabel(v))
}

// Resize changes the chart's size in cells.
func (c *Chart) Resize(w, h int) {
	w, h = max(0, w), max(0, h)
	if w == c.w && h == c.h {
		return
	}
	c.w, c.h = w, h
	c.lc.Resize(max(1, w), max(1, h))
	n := c.plotW() * c.plotH()
	c.dots = make([]uint8, n)
	c.cls = make([]Class, n)
}

// Size is the chart's size in cells.
func (c *Chart) Size() (w, h int) { return c.w, c.h }

func (c *Chart) plotW() int { return max(0, c.w-LabelWidth-1) }
func (c *Chart) plotH() int { return max(0, c.h-2) }

// Draw lays out one frame. It allocates nothing once the chart has its size,
// beyond the few axis label strings.
func (c *Chart) Draw(s Spec) {
	if s.Format != nil {
		c.format = s.Format
	}
	c.origin = s.Origin
	clear(c.dots)
	clear(c.cls)
	pw, ph := c.plotW(), c.plotH()
	if pw <= 0 || ph <= 0 || !s.To.After(s.From) {
		return
	}
	lo, hi := yRange(s)
	c.sc = newScale(lo, hi, c.plotH())
	lo, hi = c.sc.edges()
	from, to := float64(s.From.UnixNano())/1e9, float64(s.To.UnixNano())/1e9
	c.lc.SetTimeRange(s.From, s.To)
	c.lc.SetViewTimeRange(s.From, s.To)
	c.lc.Model.SetXRange(from, to)
	c.lc.Model.SetViewXRange(from, to)
	c.lc.SetYRange(lo, hi)
	c.lc.SetViewYRange(lo, hi)
	c.clearCanvas()
	c.lc.DrawXYAxisAndLabel()
	c.drawYLabels()

	if !math.IsNaN(s.BandLo) && !math.IsNaN(s.BandHi) {
		top, bot := c.row(max(s.BandLo, s.BandHi)), c.row(min(s.BandLo, s.BandHi))
		for y := top; y <= bot; y++ {
			c.fillRow(y, Band)
		}
	}
	for _, v := range s.Expect {
		if c.OnScale(v) {
			c.fillRow(c.row(v), Expect)
			c.labelLimit(v)
		}
	}
	for _, v := range s.Guard {
		if c.OnScale(v) {
			c.fillRow(c.row(v), Guard)
			c.labelLimit(v)
		}
	}
	span := s.To.Sub(s.From)
	mark := func(ts []time.Time, cl Class) {
		for _, t := range ts {
			if t.Before(s.From) || t.After(s.To) {
				continue
			}
			x := min(pw-1, int(int64(t.Sub(s.From))*int64(pw)/int64(span)))
			for y := range ph {
				c.cls[y*pw+x] = cl
			}
		}
	}
	mark(s.Starts, Start)
	mark(s.Stops, Stop)
	for _, sr := range s.Series {
		if !sr.Hidden {
			c.plot(sr)
		}
	}
}

// clearCanvas empties the ntcharts canvas in place; its own Clear
// allocates every row afresh on every frame.
func (c *Chart) clearCanvas() {
	cv := &c.lc.Canvas
	for y := range cv.Height() {
		for x := range cv.Width() {
			p := canvas.Point{X: x, Y: y}
			if cv.Cell(p).Rune != 0 {
				cv.SetCell(p, canvas.Cell{})
			}
		}
	}
}

// OnScale reports whether v lies within the Y range of the last Draw.
func (c *Chart) OnScale(v float64) bool {
	lo, hi := c.sc.edges()
	return !math.IsNaN(v) && v >= lo && v <= hi
}

// Edges are the lowest and highest values the last Draw can show.
func (c *Chart) Edges() (lo, hi float64) { return c.sc.edges() }

// Row is the plot row (0 at the top) the last Draw put a value on; limit
// lines and axis labels both use it.
func (c *Chart) Row(v float64) int { return c.sc.row(v) }

func (c *Chart) fillRow(y int, cl Class) {
	pw := c.plotW()
	for x := range pw {
		c.cls[y*pw+x] = cl
	}
}

func (c *Chart) row(v float64) int    { return c.sc.row(v) }
func (c *Chart) dotRow(v float64) int { return c.sc.dotRow(v) }

// braille dot bits by [dot column][dot row within the cell].
var dotBit = [2][4]uint8{{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}}

// plot draws each column as a vertical stroke from its minimum to its
// maximum, stretched to the previous column's last value so the line is
// continuous; a gap column breaks the line.
func (c *Chart) plot(sr Series) {
	pw := c.plotW()
	cl := Series0 + Class(sr.Colour%Colours)
	prev := -1
	for i, col := range sr.Cols {
		x := i / 2
		if x >= pw {
			break
		}
		if col.Gap() {
			prev = -1
			continue
		}
		top, bot := c.dotRow(col.Max), c.dotRow(col.Min)
		if prev >= 0 {
			top, bot = min(top, prev), max(bot, prev)
		}
		for d := top; d <= bot; d++ {
			k := (d/4)*pw + x
			c.dots[k] |= dotBit[i%2][d%4]
			c.cls[k] = cl
		}
		prev = c.dotRow(col.Last)
	}
}

// reach is how far above the data a limit line may lie and still widen the
// scale: a guardrail at ten times today's latency would flatten the line
// people are watching, so it is left off the chart and reported instead.
const reach = 4

// yRange spans the visible values and the band, plus the limit lines
// within reach, starting at zero when nothing is negative.
func yRange(s Spec) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	see := func(v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	for _, sr := range s.Series {
		if sr.Hidden {
			continue
		}
		for _, col := range sr.Cols {
			if !col.Gap() {
				see(col.Min)
				see(col.Max)
			}
		}
	}
	see(s.BandLo)
	see(s.BandHi)
	// Reach is measured from the data or the lowest expectation, whichever
	// is higher, so the line the hypothesis is judged against is always
	// drawn, and a healthy error rate of 0 with a 1% expectation and a 20%
	// guardrail is drawn against the 1%, where it can be read.
	lowest := math.Inf(1)
	for _, lines := range [][]float64{s.Expect, s.Keep} {
		for _, v := range lines {
			if v > 0 {
				lowest = min(lowest, v)
			}
		}
	}
	ref := hi
	if !math.IsInf(lowest, 1) {
		ref = max(ref, lowest)
	}
	for _, lines := range [][]float64{s.Expect, s.Keep, s.Guard} {
		for _, v := range lines {
			if math.IsInf(ref, -1) || ref <= 0 || v <= ref*reach {
				see(v)
			}
		}
	}
	if lo > hi {
		return 0, 1
	}
	if lo >= 0 {
		lo = 0
	}
	return lo, hi
}

// Palette holds, per class, the escape sequences that open and close its
// style; Styles builds it from lipgloss styles.
type Palette struct {
	Open, Close [Series0 + Colours]string
}

// Render writes the chart, one line per row without a trailing newline.
// Runs of cells of one class share one pair of escape sequences, so the
// cost is a few string writes per run rather than a lipgloss render per cell.
func (c *Chart) Render(b *strings.Builder, p *Palette) {
	if c.w <= 0 || c.h <= 0 {
		return
	}
	cv := &c.lc.Canvas
	ox := c.lc.Origin().X
	pw, ph := c.plotW(), c.plotH()
	var buf [4]byte
	for y := range c.h {
		if y > 0 {
			b.WriteByte('\n')
		}
		cur := None
		for x := range c.w {
			var r rune
			var cl Class
			px := x - ox - 1
			if y < ph && px >= 0 && px < pw {
				k := y*pw + px
				cl = c.cls[k]
				switch {
				case c.dots[k] != 0:
					r = rune(0x2800) + rune(c.dots[k])
				case cl == Start:
					r = '│'
				case cl == Stop:
					r = '┆'
				case cl == Guard:
					r = '━'
				case cl == Expect:
					r = '╌'
				case cl == Band:
					r = '·'
				}
			} else {
				r = cv.Cell(canvas.Point{X: x, Y: y}).Rune
				cl = Label
				if x == ox || y == ph {
					cl = Axis
				}
			}
			if r == 0 {
				r, cl = ' ', None
			}
			if cl != cur {
				b.WriteString(p.Close[cur])
				b.WriteString(p.Open[cl])
				cur = cl
			}
			if r < 0x80 {
				b.WriteByte(byte(r))
			} else {
				n := utf8.EncodeRune(buf[:], r)
				b.Write(buf[:n])
			}
		}
		b.WriteString(p.Close[cur])
	}
}

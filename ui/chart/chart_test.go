package chart

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/metrics"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func series(n int, step time.Duration, f func(i int) (float64, bool)) []metrics.Point {
	pts := make([]metrics.Point, n)
	for i := range pts {
		v, ok := f(i)
		pts[i] = metrics.Point{T: t0.Add(time.Duration(i) * step), V: v, Missing: !ok}
	}
	return pts
}

func TestDownsampleKeepsPeaksAndGaps(t *testing.T) {
	pts := series(3600, time.Second, func(i int) (float64, bool) {
		switch {
		case i == 1234:
			return 50, true // a one-step spike among 3,600 steps
		case i >= 2000 && i < 2400:
			return 0, false // Prometheus had nothing
		case i == 3000:
			return math.NaN(), true
		}
		return 1, true
	})
	cols := Downsample(nil, 100, t0, t0.Add(3599*time.Second), time.Second, pts)
	if len(cols) != 100 {
		t.Fatalf("%d columns, want 100", len(cols))
	}
	spike := 1234 * 100 / 3599
	if cols[spike].Max != 50 || cols[spike].Min != 1 {
		t.Errorf("spike column %d = %+v, want min 1 max 50", spike, cols[spike])
	}
	for i, c := range cols {
		if i != spike && c.Max != 1 && !c.Gap() {
			t.Errorf("column %d max %v, want 1", i, c.Max)
		}
	}
	for i := 2000*100/3599 + 1; i < 2400*100/3599; i++ {
		if !cols[i].Gap() {
			t.Errorf("column %d inside the gap has %d values; a gap must stay a gap", i, cols[i].N)
		}
	}
	total := 0
	for _, c := range cols {
		total += c.N
	}
	if want := 3600 - 400 - 1; total != want {
		t.Errorf("%d values counted, want %d (gaps and NaN left out)", total, want)
	}
}

func TestDownsampleWindowAndReuse(t *testing.T) {
	pts := series(10, time.Second, func(i int) (float64, bool) { return float64(i), true })
	buf := make([]Column, 0, 8)
	cols := Downsample(buf, 5, t0.Add(2*time.Second), t0.Add(6*time.Second), time.Second, pts)
	if &cols[0] != &buf[:1][0] {
		t.Error("did not reuse the buffer")
	}
	if cols[0].First != 2 || cols[4].Last != 6 {
		t.Errorf("window not respected: %+v", cols)
	}
	if got := Downsample(cols, 0, t0, t0.Add(time.Second), time.Second, pts); len(got) != 0 {
		t.Errorf("zero columns gave %d", len(got))
	}
	if got := Downsample(nil, 3, t0, t0, time.Second, pts); len(got) != 3 || !got[0].Gap() {
		t.Errorf("empty window: %+v", got)
	}
	if got := Downsample(nil, -4, t0, t0.Add(time.Hour), time.Second, pts); len(got) != 0 {
		t.Errorf("negative width gave %d columns", len(got))
	}
}

func TestDownsampleJoinsSparseSteps(t *testing.T) {
	// 11 steps over 100 columns: the columns between steps are joined, but
	// not across a missing step.
	pts := series(11, time.Second, func(i int) (float64, bool) { return float64(i), i != 6 })
	cols := Downsample(nil, 100, t0, t0.Add(10*time.Second), time.Second, pts)
	if c := cols[15]; c.Gap() || !c.Joined || c.Min != 1.5 {
		t.Errorf("column between steps 1 and 2 = %+v, want joined at 1.5", c)
	}
	for i := 51; i < 70; i++ {
		if !cols[i].Gap() {
			t.Errorf("column %d spans the missing step 6 but is drawn: %+v", i, cols[i])
		}
	}
	// Steps further apart than 1.5 steps are not joined: the server skipped some.
	sparse := []metrics.Point{{T: t0, V: 1}, {T: t0.Add(5 * time.Second), V: 1}}
	cols = Downsample(cols, 10, t0, t0.Add(10*time.Second), time.Second, sparse)
	if !cols[3].Gap() {
		t.Errorf("joined across a 5-step hole: %+v", cols[3])
	}
}

func plain() *Palette { return &Palette{} }

func render(c *Chart) []string {
	var b strings.Builder
	c.Render(&b, plain())
	return strings.Split(b.String(), "\n")
}

func TestChartDrawsGapsLinesAndMarkers(t *testing.T) {
	c := New(48, 12)
	pts := series(600, time.Second, func(i int) (float64, bool) {
		if i >= 300 && i < 400 {
			return 0, false
		}
		return 0.1, true
	})
	to := t0.Add(599 * time.Second)
	cols := Downsample(nil, PlotColumns(48), t0, to, time.Second, pts)
	c.Draw(Spec{From: t0, To: to, Origin: t0, Series: []Series{{Cols: cols}},
		BandLo: 0.08, BandHi: 0.12, Expect: []float64{0.2}, Guard: []float64{0.4},
		Starts: []time.Time{t0.Add(100 * time.Second)}, Stops: []time.Time{t0.Add(500 * time.Second)},
		Format: func(v float64) string { return "x" }})
	lines := render(c)
	if len(lines) != 12 {
		t.Fatalf("%d lines, want 12", len(lines))
	}
	out := strings.Join(lines, "\n")
	for _, want := range []string{"━", "╌", "│", "┆", "·", "+00:00"} {
		if !strings.Contains(out, want) {
			t.Errorf("chart lacks %q:\n%s", want, out)
		}
	}
	// The gap's columns hold no braille at all.
	gx := LabelWidth + 1 + (350*40)/599
	for y, l := range lines[:10] {
		r := []rune(l)
		if gx < len(r) && r[gx] >= 0x2800 && r[gx] <= 0x28FF {
			t.Errorf("row %d column %d inside the gap is drawn: %q", y, gx, l)
		}
	}
	for _, l := range lines {
		if n := len([]rune(l)); n != 48 {
			t.Errorf("line is %d cells wide, want 48: %q", n, l)
		}
	}
}

func TestChartTinySizesDoNotPanic(t *testing.T) {
	for _, sz := range [][2]int{{0, 0}, {1, 1}, {8, 2}, {9, 3}, {-3, -1}} {
		c := New(sz[0], sz[1])
		c.Draw(Spec{From: t0, To: t0.Add(time.Minute), Series: []Series{{Cols: []Column{{Min: 1, Max: math.Inf(1), N: 2}}}}})
		render(c)
	}
}

func BenchmarkDownsample(b *testing.B) {
	pts := series(3600, time.Second, func(i int) (float64, bool) { return float64(i % 17), true })
	var cols []Column
	b.ReportAllocs()
	for b.Loop() {
		cols = Downsample(cols, PlotColumns(140), t0, t0.Add(time.Hour), time.Second, pts)
	}
}

// BenchmarkChartFrom3x3600 is one chart of 3 series × 3,600 points at
// 190×18: downsample each series to the plot's dot columns, draw, render.
func BenchmarkChartFrom3x3600(b *testing.B) {
	var raw [3][]metrics.Point
	for k := range raw {
		raw[k] = series(3600, time.Second, func(i int) (float64, bool) { return float64(k) + math.Sin(float64(i)/30), true })
	}
	to := t0.Add(3599 * time.Second)
	c := New(190, 18)
	var cols [3][]Column
	var sb strings.Builder
	b.ReportAllocs()
	for b.Loop() {
		spec := Spec{From: t0, To: to, Origin: t0, BandLo: 0.5, BandHi: 1.5, Expect: []float64{3}, Format: func(v float64) string { return "1.0" }}
		for k := range raw {
			cols[k] = Downsample(cols[k], PlotColumns(190), t0, to, time.Second, raw[k])
			spec.Series = append(spec.Series, Series{Cols: cols[k], Colour: k})
		}
		c.Draw(spec)
		sb.Reset()
		c.Render(&sb, plain())
	}
}

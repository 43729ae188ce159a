package chart

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// labels reads the Y axis labels of a rendered chart: plot row to value.
func labels(t *testing.T, lines []string, rows int) map[int]float64 {
	t.Helper()
	out := map[int]float64{}
	for y, l := range lines[:rows] {
		s := strings.TrimSpace(string([]rune(l)[:LabelWidth]))
		if s == "" {
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("row %d label %q: %v", y, s, err)
		}
		out[y] = v
	}
	if len(out) < 2 {
		t.Fatalf("%d labels, want at least 2:\n%s", len(out), strings.Join(lines, "\n"))
	}
	return out
}

// rowsOf lists the plot rows whose plot area holds r.
func rowsOf(lines []string, rows int, r rune) []int {
	var out []int
	for y, l := range lines[:rows] {
		if strings.ContainsRune(string([]rune(l)[LabelWidth+1:]), r) {
			out = append(out, y)
		}
	}
	return out
}

// valueAt is the value the axis labels give row y, read between the
// labelled rows around it.
func valueAt(lab map[int]float64, y int) (v, unit float64) {
	above, below := -1, -1
	for r := range lab {
		if r <= y && (above < 0 || r > above) {
			above = r
		}
		if r >= y && (below < 0 || r < below) {
			below = r
		}
	}
	if above < 0 || below < 0 { // beyond the labels: extrapolate from the two nearest
		var rs []int
		for r := range lab {
			rs = append(rs, r)
		}
		a, b := rs[0], rs[1]
		unit = (lab[a] - lab[b]) / float64(b-a)
		return lab[a] + float64(a-y)*unit, math.Abs(unit)
	}
	if above == below {
		a, b := -1, -1
		for r := range lab {
			if r != y && (a < 0 || abs(r-y) < abs(a-y)) {
				a = r
			}
		}
		b = y
		return lab[y], math.Abs((lab[a] - lab[b]) / float64(b-a))
	}
	unit = (lab[above] - lab[below]) / float64(below-above)
	return lab[below] + float64(below-y)*unit, unit
}

func abs(n int) int { return max(n, -n) }

func flat(n int, v float64) []Column {
	cols := make([]Column, n)
	for i := range cols {
		cols[i] = Column{Min: v, Max: v, First: v, Last: v, N: 1}
	}
	return cols
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// The cases: a limit line must sit on the row the axis labels give
// its value, to within half a row, and never share a row with a line of
// data that is clearly on the right side of it.
func TestLimitLinesSitOnTheirLabelledRow(t *testing.T) {
	cases := []struct {
		name         string
		h            int
		data         float64
		expect       float64
		guard        float64
		dataNotOnRow bool
	}{
		{"latency 70ms, expect < 250ms", 9, 0.07, 0.25, math.NaN(), true},
		{"error rate 0, expect < 1%", 7, 0, 0.01, math.NaN(), true},
		{"error rate 0, expect < 1%, short chart", 6, 0, 0.01, math.NaN(), true},
		{"error rate 0, expect < 1%, guardrail > 20%", 6, 0, 0.01, 0.2, true},
		{"error 5%, guardrail > 20%", 12, 0.05, math.NaN(), 0.2, true},
		{"latency 149ms, expect < 150ms", 14, 0.149, 0.15, math.NaN(), false},
		// Four rows of 100ms each: 250ms lies between two rows.
		{"latency 200ms, expect < 250ms, four rows", 6, 0.2, 0.25, math.NaN(), true},
		{"latency 120ms, expect < 250ms, guardrail > 400ms, five rows", 7, 0.12, 0.25, 0.4, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := New(60, tc.h)
			// The data covers half the plot so the limit shows beside it.
			c.Draw(Spec{From: t0, To: t0.Add(time.Minute), Origin: t0, Series: []Series{{Cols: flat(PlotColumns(60)/2, tc.data)}},
				BandLo: math.NaN(), BandHi: math.NaN(), Expect: []float64{tc.expect}, Guard: []float64{tc.guard}, Format: num})
			lines := render(c)
			rows := tc.h - 2
			lab := labels(t, lines, rows)
			v, mark := tc.expect, '╌'
			if math.IsNaN(v) {
				v, mark = tc.guard, '━'
			}
			got := rowsOf(lines, rows, mark)
			if len(got) != 1 {
				t.Fatalf("limit %v on rows %v, want one row:\n%s", v, got, strings.Join(lines, "\n"))
			}
			at, unit := valueAt(lab, got[0])
			if math.Abs(at-v) > unit/2+1e-12 {
				t.Errorf("limit %v drawn on row %d, which the labels %v put at %v (±%v):\n%s", v, got[0], lab, at, unit/2, strings.Join(lines, "\n"))
			}
			// A labelled row says exactly what the line on it stands for.
			if l, ok := lab[got[0]]; ok && math.Abs(l-v) > 1e-9 {
				t.Errorf("limit %v drawn on row %d labelled %v:\n%s", v, got[0], l, strings.Join(lines, "\n"))
			}
			if c.Row(v) != got[0] {
				t.Errorf("Row(%v) = %d, drawn on %d", v, c.Row(v), got[0])
			}
			data := rowsOf(lines, rows, '⣀')
			data = append(data, rowsOf(lines, rows, '⠤')...)
			data = append(data, rowsOf(lines, rows, '⠒')...)
			data = append(data, rowsOf(lines, rows, '⠉')...)
			if tc.dataNotOnRow {
				for _, r := range data {
					if r == got[0] {
						t.Errorf("data %v shares row %d with the limit %v:\n%s", tc.data, r, v, strings.Join(lines, "\n"))
					}
				}
			}
		})
	}
}

// Ticks are whole multiples of 1, 2 or 5 times a power of ten, evenly
// spaced.
func TestTicksAreOneTwoFive(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		h      int
	}{{0, 0.0873, 8}, {0, 0.0997, 12}, {0, 0.00988, 6}, {0, 0.8902, 20}, {-3.3, 17.1, 10}, {0, 1234, 7}, {0, 0.27, 5}} {
		c := New(40, tc.h)
		c.Draw(Spec{From: t0, To: t0.Add(time.Minute), Origin: t0, BandLo: tc.lo, BandHi: tc.hi, Format: num})
		lab := labels(t, render(c), tc.h-2)
		var vs []float64
		for y := tc.h - 3; y >= 0; y-- {
			if v, ok := lab[y]; ok {
				vs = append(vs, v)
			}
		}
		step := vs[1] - vs[0]
		if m := step / math.Pow(10, math.Floor(math.Log10(step))); math.Abs(m-1) > 1e-6 && math.Abs(m-2) > 1e-6 && math.Abs(m-5) > 1e-6 {
			t.Errorf("%v..%v: step %v is not 1, 2 or 5 × 10ⁿ; labels %v", tc.lo, tc.hi, step, vs)
		}
		for i, v := range vs {
			if q := v / step; math.Abs(q-math.Round(q)) > 1e-6 {
				t.Errorf("%v..%v: label %v is not a multiple of the step %v", tc.lo, tc.hi, v, step)
			}
			if i > 0 && math.Abs(v-vs[i-1]-step) > step*1e-6 {
				t.Errorf("%v..%v: uneven labels %v", tc.lo, tc.hi, vs)
			}
		}
		if vs[0] > tc.lo || !c.OnScale(tc.hi) {
			t.Errorf("%v..%v: labels %v do not span the data", tc.lo, tc.hi, vs)
		}
	}
}

// The scale spans the limits of every phase, so a limit that goes away
// when a phase ends does not move the lines; data beyond it grows it.
func TestScaleStableAcrossPhases(t *testing.T) {
	c := New(60, 10)
	keep := []float64{0.15, 0.1} // the steady state's limit, then the hypothesis's
	spec := Spec{From: t0, To: t0.Add(time.Minute), Origin: t0, Series: []Series{{Cols: flat(PlotColumns(60), 0.05)}},
		BandLo: math.NaN(), BandHi: math.NaN(), Expect: keep[:1], Keep: keep, Format: num}
	c.Draw(spec)
	lb := labels(t, render(c), 8)
	spec.Expect = keep[1:]
	c.Draw(spec)
	la := labels(t, render(c), 8)
	if len(lb) != len(la) {
		t.Fatalf("labels changed from %v to %v", lb, la)
	}
	for r, v := range lb {
		if la[r] != v {
			t.Errorf("row %d label changed from %v to %v", r, v, la[r])
		}
	}
	spec.Series[0].Cols = flat(PlotColumns(60), 0.9)
	c.Draw(spec)
	if !c.OnScale(0.9) {
		t.Errorf("data at 0.9 is off the scale")
	}
	top := 0.0
	for _, v := range labels(t, render(c), 8) {
		top = max(top, v)
	}
	if top < 0.9 {
		t.Errorf("top label %v, want the scale grown to show 0.9", top)
	}
}

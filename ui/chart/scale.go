package chart

import "math"

// scale maps values to plot rows. Every row stands for one value, its
// centre: row ph-1 for bottom, each row up adds unit. Ticks fall on rows
// exactly, at whole multiples of a 1-2-5 step, so the label beside a row
// and a limit line drawn on it cannot disagree.
type scale struct {
	bottom, unit float64
	step         float64
	rowsPerStep  int
	rows         int
}

// edges are the values at the bottom edge of the lowest row and the top
// edge of the highest: what the plot can show.
func (s scale) edges() (lo, hi float64) {
	return s.bottom - s.unit/2, s.bottom + (float64(s.rows)-0.5)*s.unit
}

// row is the plot row (0 at the top) whose value is nearest v.
func (s scale) row(v float64) int {
	r := s.rows - 1 - int(math.Round((v-s.bottom)/s.unit))
	return min(s.rows-1, max(0, r))
}

// value is the value plot row r (0 at the top) stands for.
func (s scale) value(r int) float64 { return s.bottom + float64(s.rows-1-r)*s.unit }

// dotRow is the braille dot row (0 at the top) a value falls in; values
// beyond the range, infinities included, sit on the edge.
func (s scale) dotRow(v float64) int {
	n := s.rows * 4
	if math.IsInf(v, 1) {
		return 0
	}
	if math.IsInf(v, -1) {
		return n - 1
	}
	_, hi := s.edges()
	r := int(math.Floor((hi - v) / s.unit * 4))
	return min(n-1, max(0, r))
}

// tick is the value of the i-th tick from the bottom; multiplying rather
// than adding keeps rounding errors from piling up tick after tick.
func (s scale) tick(i int) float64 { return s.bottom + float64(i)*s.step }

// ticks is how many ticks fit on the rows, the bottom one included.
func (s scale) ticks() int { return (s.rows-1)/s.rowsPerStep + 1 }

// newScale picks the smallest 1-2-5 step whose ticks, one label at least
// every other row (every row on a short chart), span lo..hi on rows rows.
func newScale(lo, hi float64, rows int) scale {
	if rows <= 0 {
		return scale{unit: 1, step: 1, rowsPerStep: 1, rows: 1}
	}
	if !(hi > lo) {
		hi = lo + math.Max(1, math.Abs(lo))
	}
	// Labels stand a row apart so they never touch, except on a short
	// chart, where a label on every row says more than two labels.
	gap := 2
	if rows <= 5 {
		gap = 1
	}
	span := hi - lo
	step := niceAtLeast(span / float64(max(1, rows-1)))
	for range 64 {
		bottom := math.Floor(lo/step) * step
		n := max(1, int(math.Ceil((hi-bottom)/step-1e-9)))
		if per := (rows - 1) / n; per >= gap || rows == 1 {
			per = max(1, per)
			return scale{bottom: bottom, unit: step / float64(per), step: step, rowsPerStep: per, rows: rows}
		}
		step = nextNice(step)
	}
	return scale{bottom: lo, unit: span / float64(rows), step: span, rowsPerStep: max(1, rows-1), rows: rows}
}

// niceAtLeast is the smallest 1, 2 or 5 times a power of ten that is at
// least v.
func niceAtLeast(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if s := m * p; s >= v*(1-1e-9) {
			return s
		}
	}
	return 10 * p
}

// nextNice is the 1-2-5 step after s.
func nextNice(s float64) float64 { return niceAtLeast(s * 1.5) }

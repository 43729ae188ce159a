// Package chart draws the console's time-series panels on an ntcharts line
// chart. A chart is only ever fed what its pixel columns can show: Downsample
// folds any number of points into one column per braille dot column, keeping
// each column's minimum and maximum so that a one-step spike is still drawn.
package chart

import (
	"math"
	"time"

	"github.com/gameday/gameday/metrics"
)

// Column is what one pixel column shows. N is how many values fell into it;
// a column with N == 0 is a gap and is drawn as nothing.
type Column struct {
	Min, Max    float64
	First, Last float64
	N           int
}

// Gap reports whether the column has no value.
func (c Column) Gap() bool { return c.N == 0 }

// Downsample folds pts into cols columns spanning [from, to], reusing dst's
// storage. Points outside the window are ignored; missing points and NaN
// values contribute nothing, so a stretch without data stays a gap and is
// never read as zero. Infinite values are kept: they are values (a quantile
// in the +Inf bucket) and the drawing clamps them to the chart's edge.
func Downsample(dst []Column, cols int, from, to time.Time, pts []metrics.Point) []Column {
	cols = max(0, cols)
	if cap(dst) < cols {
		dst = make([]Column, cols)
	}
	dst = dst[:cols]
	clear(dst)
	span := to.Sub(from)
	if cols == 0 || span <= 0 {
		return dst
	}
	for _, p := range pts {
		if p.Missing || math.IsNaN(p.V) || p.T.Before(from) || p.T.After(to) {
			continue
		}
		i := int(int64(p.T.Sub(from)) * int64(cols) / int64(span))
		if i >= cols { // p.T == to
			i = cols - 1
		}
		c := &dst[i]
		if c.N == 0 {
			c.Min, c.Max, c.First = p.V, p.V, p.V
		} else {
			c.Min = min(c.Min, p.V)
			c.Max = max(c.Max, p.V)
		}
		c.Last = p.V
		c.N++
	}
	return dst
}

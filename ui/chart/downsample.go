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

// Column is what one pixel column shows. N is how many values fell into it.
// A column with no value of its own is either a gap, drawn as nothing, or,
// when it lies between two consecutive steps of the series (a window with
// fewer steps than columns), Joined: drawn as the line between them.
type Column struct {
	Min, Max    float64
	First, Last float64
	N           int
	Joined      bool
}

// Gap reports whether the column shows nothing.
func (c Column) Gap() bool { return c.N == 0 && !c.Joined }

// Downsample folds pts into cols columns spanning [from, to], reusing dst's
// storage. Points outside the window are ignored; missing points and NaN
// values contribute nothing, so a stretch without data stays a gap and is
// never read as zero. Columns between two values at most 1.5 steps apart
// are joined, so a sparse window draws a line rather than dots. Infinite
// values are kept: they are values (a quantile in the +Inf bucket) and the
// drawing clamps them to the chart's edge.
func Downsample(dst []Column, cols int, from, to time.Time, step time.Duration, pts []metrics.Point) []Column {
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
	maxJoin := step + step/2
	prev, prevCol, havePrev := metrics.Point{}, 0, false
	for _, p := range pts {
		if p.T.Before(from) || p.T.After(to) {
			continue
		}
		if p.Missing || math.IsNaN(p.V) {
			havePrev = false
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
		if havePrev && i > prevCol+1 && p.T.Sub(prev.T) <= maxJoin {
			for j := prevCol + 1; j < i; j++ {
				f := float64(j-prevCol) / float64(i-prevCol)
				v := prev.V + (p.V-prev.V)*f
				dst[j] = Column{Min: v, Max: v, First: v, Last: v, Joined: true}
			}
		}
		prev, prevCol, havePrev = p, i, true
	}
	return dst
}

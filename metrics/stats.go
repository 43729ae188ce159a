package metrics

import (
	"math"
	"slices"
	"time"
)

// Stats summarises a window of a series. Gaps and NaN values are left out
// of every statistic and counted instead, so a window with no data says so
// (Count == 0, every statistic NaN) rather than reporting zeros.
type Stats struct {
	From, To time.Time // the window asked for
	Count    int       // values used: finite or ±Inf
	Gaps     int       // steps the server returned nothing for
	NaNs     int       // steps the server returned NaN for
	Min      float64
	Median   float64
	P95      float64
	Max      float64
	Mean     float64
	Last     float64   // the newest value used
	LastAt   time.Time // its step
}

// Steps is how many steps the window covered, values and gaps alike.
func (s Stats) Steps() int { return s.Count + s.Gaps + s.NaNs }

// Empty reports whether the window held no usable value.
func (s Stats) Empty() bool { return s.Count == 0 }

// Summarize computes statistics over pts, which the caller has already cut
// to the window [from, to].
func Summarize(from, to time.Time, pts []Point) Stats {
	s := Stats{From: from, To: to}
	vals := make([]float64, 0, len(pts))
	for _, p := range pts {
		switch {
		case p.Missing:
			s.Gaps++
		case math.IsNaN(p.V):
			s.NaNs++
		default:
			vals = append(vals, p.V)
			s.Last, s.LastAt = p.V, p.T
		}
	}
	s.Count = len(vals)
	if s.Count == 0 {
		nan := math.NaN()
		s.Min, s.Median, s.P95, s.Max, s.Mean, s.Last = nan, nan, nan, nan, nan, nan
		return s
	}
	sum := 0.0
	for _, v := range vals {
		sum += v
	}
	s.Mean = sum / float64(len(vals)) // +Inf in, +Inf out: that is the truth
	slices.Sort(vals)
	s.Min, s.Max = vals[0], vals[len(vals)-1]
	s.Median = quantile(vals, 0.5)
	s.P95 = quantile(vals, 0.95)
	return s
}

// SummarizeRing computes statistics over the ring's steps in [from, to].
func SummarizeRing(r *Ring, from, to time.Time) Stats {
	var pts []Point
	r.Each(from, to, func(p Point) { pts = append(pts, p) })
	return Summarize(from, to, pts)
}

// quantile interpolates linearly between the closest ranks of sorted
// values, which keeps p95 of a short window from jumping to the maximum.
func quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	if n == 1 {
		return sorted[0]
	}
	pos := q * float64(n-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, n-1)
	frac := pos - float64(lo)
	if frac == 0 || sorted[lo] == sorted[hi] {
		return sorted[lo]
	}
	// Interpolating towards ±Inf would give NaN from Inf*0 in some cases;
	// the nearer rank is the honest answer there.
	if math.IsInf(sorted[lo], 0) || math.IsInf(sorted[hi], 0) {
		if frac < 0.5 {
			return sorted[lo]
		}
		return sorted[hi]
	}
	return sorted[lo] + frac*(sorted[hi]-sorted[lo])
}

package report

import (
	"math"
	"testing"
)

// An eight-hour series at 1s has one-sample spikes and dips; downsampled to
// pixel columns, every one must still be there, and the count must fit the
// columns.
func TestDownsampleKeepsPeaks(t *testing.T) {
	const n = 8 * 3600
	pts := make([]xy, n)
	for i := range pts {
		pts[i] = xy{float64(i), 0.1 + 0.01*math.Sin(float64(i)/30)}
	}
	spikes := map[int]float64{1234: 9.5, 17777: 4.25, n - 1: 7}
	dips := map[int]float64{5000: -3, 22222: -1.5}
	for i, v := range spikes {
		pts[i].y = v
	}
	for i, v := range dips {
		pts[i].y = v
	}
	segs := downsample(pts, 0, n, columns, 2.5)
	if len(segs) != 1 {
		t.Fatalf("%d segments for a series without gaps, want 1", len(segs))
	}
	out := segs[0]
	if len(out) > 2*columns+2 || len(out) < columns {
		t.Errorf("%d points for %d columns", len(out), columns)
	}
	found := map[float64]bool{}
	for i, p := range out {
		found[p.y] = true
		if i > 0 && p.x <= out[i-1].x {
			t.Fatalf("points out of time order at %d: %v after %v", i, p, out[i-1])
		}
	}
	for _, want := range []map[int]float64{spikes, dips} {
		for i, v := range want {
			if !found[v] {
				t.Errorf("the extreme %g at t=%d was lost", v, i)
			}
		}
	}
}

// A stretch without samples is a break in the line, never a bridge.
func TestDownsampleBreaksAtGaps(t *testing.T) {
	var pts []xy
	for i := 0; i < 100; i++ {
		pts = append(pts, xy{float64(i), 1})
	}
	for i := 200; i < 300; i++ {
		pts = append(pts, xy{float64(i), 2})
	}
	segs := downsample(pts, 0, 300, 50, 2.5)
	if len(segs) != 2 {
		t.Fatalf("%d segments, want 2 around the gap", len(segs))
	}
	if last, first := segs[0][len(segs[0])-1].x, segs[1][0].x; last >= 100 || first < 200 {
		t.Errorf("segments end at %g and start at %g, want the gap 100..200 between them", last, first)
	}
}

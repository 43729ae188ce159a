package ui

import (
	"testing"
	"time"
)

// The x-axis spans the game day's planned length at its time scale: a lab
// run at --time-scale 0.1 (a 2s baseline, a 13s run) fills the chart
// rather than a tenth of a fixed two minutes.
func TestChartWindowSpansThePlannedRun(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	p := plan{baselineAt: t0, baseline: 2 * time.Second, observe: 13 * time.Second}
	at := func(now time.Time, p plan) time.Duration {
		msg := refreshReq{start: t0, plan: p, clock: func() time.Time { return now }}.read()
		if !msg.from.Equal(t0) {
			t.Fatalf("window opens at %v, want T+0", msg.from)
		}
		return msg.to.Sub(msg.from)
	}
	// During the baseline: the baseline and the run, and a margin.
	if got := at(t0.Add(time.Second), p); got < 15*time.Second || got > 16*time.Second {
		t.Errorf("window during the baseline spans %v, want 15s and a margin of at most 1s", got)
	}
	// People took 20s over the hypothesis: the run still fits after it.
	if got := at(t0.Add(22*time.Second), p); got < 35*time.Second || got > 37*time.Second {
		t.Errorf("window at the blast radius, T+22s, spans %v, want 35s and a margin", got)
	}
	// Once the run has begun its end is fixed.
	p.runAt = t0.Add(25 * time.Second)
	for _, now := range []time.Duration{26 * time.Second, 37 * time.Second} {
		if got := at(t0.Add(now), p); got < 38*time.Second || got > 40*time.Second {
			t.Errorf("window at T+%v of a run that began at T+25s spans %v, want 38s and a margin", now, got)
		}
	}
	// After the planned end it follows the clock.
	if got := at(t0.Add(5*time.Minute), p); got != 5*time.Minute {
		t.Errorf("window at T+5m spans %v, want 5m", got)
	}
}

package runbook

import (
	"fmt"
	"time"
)

// MinScaled is the shortest a scaled duration becomes: below a second the
// poller and most scrape intervals cannot tell one step from the next.
const MinScaled = time.Second

// MaxTimeScale is the largest time scale a run accepts.
const MaxTimeScale = 10.0

// CheckTimeScale says what is wrong with a time scale, or nil.
func CheckTimeScale(f float64) error {
	if !(f > 0 && f <= MaxTimeScale) {
		return fmt.Errorf("time scale %g: expected a number above 0, at most %g", f, MaxTimeScale)
	}
	return nil
}

// Scale multiplies the durations of the plan by f, for a rehearsal of a
// runbook in less time: the baseline, every attack's start and length (each
// stage's hold), the observe phase, the metrics step and poll, the `for`
// windows of checks, and drill hints. Each becomes at least MinScaled.
//
// What measures the real system keeps its length: PromQL windows inside
// queries, metrics_blind, query and abort timeouts, the SLO window and the
// alerts' fires/notified/resolves_within (an alerting rule's `for:` does not
// run faster because the game day does).
func (r *Runbook) Scale(f float64) {
	if f == 1 {
		return
	}
	s := func(d *time.Duration) {
		if *d > 0 {
			*d = max(MinScaled, time.Duration(float64(*d)*f).Round(time.Second))
		}
	}
	s(&r.Metrics.Step)
	s(&r.Metrics.Poll)
	s(&r.Baseline.Duration)
	s(&r.Observe.Duration)
	for _, cs := range [][]Check{r.Baseline.SteadyState, r.Hypothesis.Expect, r.Guardrails.Checks} {
		for i := range cs {
			s(&cs[i].Threshold.For)
		}
	}
	for i := range r.Attacks {
		a := &r.Attacks[i]
		s(&a.StartAfter)
		if len(a.Stages) == 0 {
			s(&a.Duration)
			continue
		}
		a.Duration = 0
		for j := range a.Stages {
			s(&a.Stages[j].Hold)
			a.Duration += a.Stages[j].Hold
		}
	}
	// Rounding each part on its own must not end the watch before the
	// attacks: the loader holds observe to at least their end.
	r.Observe.Duration = max(r.Observe.Duration, r.AttacksEnd())
	for i := range r.Drill.Hints {
		s(&r.Drill.Hints[i].After)
	}
}

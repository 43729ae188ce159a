package gamedays

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/metrics/metricstest"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// TestQuietOnlyWhenDataStops: a healthy panel whose newest step trails the
// clock by a step and a poll (step 5s, polled every 5s, a pause between
// polls as long as a slow preflight) is never called quiet; once the data
// stops, the banner comes after QuietAfter and metrics blind after its
// limit, both from the same health.
func TestQuietOnlyWhenDataStops(t *testing.T) {
	src := strings.Replace(testRunbook, "step: 1s", "step: 5s", 1)
	rb, err := runbook.Parse("test.yaml", []byte(src), targets.Default())
	if err != nil {
		t.Fatal(err)
	}
	clock := NewManualClock(time.Date(2026, 11, 23, 9, 0, 2, 0, time.UTC))
	stopAt := clock.Now().Add(2 * time.Minute)
	q := &metricstest.Querier{Value: func(_, _ string, ts time.Time) float64 {
		if !ts.Before(stopAt) {
			return metricstest.Gap
		}
		return 0.1
	}}
	p := metrics.NewPoller(q, metrics.Config{Panels: rb.Metrics.Panels, Step: 5 * time.Second, Now: clock.Now, Since: clock.Now()})
	judge := func() *Live {
		return Judge(rb, p, p.Health(), Moment{Phase: PhaseBlastRadius, Now: clock.Now()})
	}
	var quietAt, blindAt time.Time
	for i := 0; i < 60 && blindAt.IsZero(); i++ {
		if err := p.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Every second until the next poll, which comes a second late (as
		// it does behind a slow preflight): a healthy panel stays fresh.
		for range 6 {
			now := clock.Now()
			if l := judge(); l.Quiet != "" && quietAt.IsZero() {
				if now.Before(stopAt) {
					t.Fatalf("quiet at %s while data flows: %s", now.Sub(stopAt), l.Quiet)
				}
				quietAt = now
			}
			if b := metrics.Blind(p.Health(), rb.Guardrails.MetricsBlind, now); b.Fired && blindAt.IsZero() {
				blindAt = now
			}
			clock.Advance(time.Second)
		}
	}
	if quietAt.IsZero() || blindAt.IsZero() {
		t.Fatalf("after the data stopped: quiet at %v, blind at %v; want both", quietAt, blindAt)
	}
	lag := 5*time.Second + 6*time.Second // a step and a (late) poll
	if d := quietAt.Sub(stopAt); d < QuietAfter(rb) || d > QuietAfter(rb)+lag+5*time.Second {
		t.Errorf("quiet %s after the data stopped, want between %s and %s", d, QuietAfter(rb), QuietAfter(rb)+lag+5*time.Second)
	}
	if d := blindAt.Sub(stopAt); d < rb.Guardrails.MetricsBlind || d > rb.Guardrails.MetricsBlind+lag+5*time.Second {
		t.Errorf("blind %s after the data stopped, want from %s", d, rb.Guardrails.MetricsBlind)
	}
}

// The samples of the hypothesis and blast-radius phases are journalled
// too, so a report's chart has no hole where the room was talking.
func TestSamplesCoverThePauseBeforeTheRun(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	h.engine.opts.AutoAdvance = false
	var hypAt time.Time
	out := h.run(func(time.Duration) {
		switch h.engine.Phase() {
		case PhaseHypothesis:
			if hypAt.IsZero() {
				hypAt = h.clock.Now()
			}
			if h.clock.Now().Sub(hypAt) >= 40*time.Second {
				h.engine.Send(Local, Intent{Type: IntentNext})
			}
		case PhaseConclude:
			h.engine.Send(Local, Intent{Type: IntentNext})
		}
	})
	if out.Verdict != VerdictHeld {
		t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
	}
	st := Fold(h.snapshot())
	runAt := st.PhaseAt[PhaseRun]
	seen := map[int64]bool{}
	for _, ev := range h.snapshot() {
		for _, s := range ev.Samples {
			if s.Panel == "p95" {
				seen[s.T.Unix()] = true
			}
		}
	}
	var missing []string
	for at := st.PhaseAt[PhaseHypothesis].Truncate(time.Second).Add(time.Second); at.Before(runAt); at = at.Add(time.Second) {
		if !seen[at.Unix()] {
			missing = append(missing, at.Format("15:04:05"))
		}
	}
	if len(missing) > 0 || runAt.Sub(st.PhaseAt[PhaseHypothesis]) < 40*time.Second {
		t.Errorf("p95 samples missing between the baseline and the run (%s): %v", runAt.Sub(st.PhaseAt[PhaseHypothesis]), missing)
	}
}

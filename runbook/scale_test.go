package runbook_test

import (
	"testing"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// A rehearsal shortens the plan and nothing that measures the real system.
func TestScaleShortensThePlanOnly(t *testing.T) {
	src := `version: 1
name: rehearsal
metrics:
  step: 5s
  timeout: 20s
  panels:
    p95: {query: latency, unit: seconds}
baseline:
  duration: 2m
  steady_state: {p95: "< 300ms"}
hypothesis:
  statement: checkout copes
  expect: {p95: "< 300ms"}
guardrails:
  p95: "> 1s for 30s"
  metrics_blind: 60s
targets:
  checkout: {ssh: {hosts: [c-1, c-2]}}
blast_radius:
  checkout: {count: 1}
attacks:
  - name: burn
    target: checkout
    kind: cpu
    start_after: 30s
    duration: 5m
observe:
  duration: 8m30s
abort:
  timeout: 45s
`
	rb, err := runbook.Parse("r.yaml", []byte(src), targets.Default())
	if err != nil {
		t.Fatal(err)
	}
	rb.Scale(0.03)
	for _, c := range []struct {
		what      string
		got, want time.Duration
	}{
		{"step", rb.Metrics.Step, time.Second},              // 150ms, held at the floor
		{"baseline", rb.Baseline.Duration, 4 * time.Second}, // 3.6s
		{"guardrail for", rb.Guardrails.Checks[0].Threshold.For, time.Second},
		{"start_after", rb.Attacks[0].StartAfter, time.Second},
		{"duration", rb.Attacks[0].Duration, 9 * time.Second},
		{"observe", rb.Observe.Duration, 15 * time.Second},
		{"metrics_blind", rb.Guardrails.MetricsBlind, time.Minute},
		{"query timeout", rb.Metrics.Timeout, 20 * time.Second},
		{"abort timeout", rb.Abort.Timeout, 45 * time.Second},
	} {
		if c.got != c.want {
			t.Errorf("%s: %s after scaling, want %s", c.what, c.got, c.want)
		}
	}
}

// Rounding each part on its own never ends observe before the attacks, and
// a staged attack's duration stays the sum of its holds.
func TestScaleKeepsThePlanWhole(t *testing.T) {
	rb, err := runbook.Parse("s.yaml", []byte(stagedRunbook), targets.Default())
	if err != nil {
		t.Fatal(err)
	}
	rb.Observe.Duration = rb.AttacksEnd()
	rb.Scale(0.011)
	a := rb.Attacks[0]
	var sum time.Duration
	for _, s := range a.Stages {
		if s.Hold < runbook.MinScaled {
			t.Errorf("hold %s below the floor", s.Hold)
		}
		sum += s.Hold
	}
	if a.Duration != sum {
		t.Errorf("duration %s, holds sum to %s", a.Duration, sum)
	}
	if rb.Observe.Duration < rb.AttacksEnd() {
		t.Errorf("observe %s ends before the attacks (%s)", rb.Observe.Duration, rb.AttacksEnd())
	}
}

func TestCheckTimeScale(t *testing.T) {
	for _, f := range []float64{0, -1, 10.5} {
		if runbook.CheckTimeScale(f) == nil {
			t.Errorf("time scale %g accepted", f)
		}
	}
	for _, f := range []float64{0.01, 1, 10} {
		if err := runbook.CheckTimeScale(f); err != nil {
			t.Errorf("time scale %g: %v", f, err)
		}
	}
}

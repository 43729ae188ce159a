package report

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/metrics/metricstest"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/targetstest"
)

// The fixtures follow the engine's order by hand; these runs prove the
// report reads what the real engine writes.

const engineRunbook = `version: 1
name: report from a real engine
metrics:
  step: 1s
  panels:
    p95: {query: latency, unit: seconds}
    error_rate: {query: errors, unit: ratio}
baseline:
  duration: 20s
  steady_state: {p95: "< 300ms"}
hypothesis:
  statement: one slow host is tolerable
  expect: {p95: "< baseline * 3", error_rate: "< 2%"}
guardrails:
  p95: "> 2s for 5s"
targets:
  web: {ssh: {hosts: [web-1, web-2, web-3]}}
blast_radius:
  web: {percent: 34, seed: 11}
attacks:
  - {name: slow, target: web, kind: network-latency, params: {interface: eth0, delay: 200ms}, start_after: 5s, duration: 20s}
observe: {duration: 30s}
`

// hurting answers range queries with latency that is normal, or hurt while
// the host has something applied.
func hurting(h *targetstest.Executor, normal, hurt float64) *metricstest.Querier {
	return &metricstest.Querier{Value: func(q, _ string, _ time.Time) float64 {
		switch {
		case q != "latency":
			return 0.003
		case h.Active() > 0:
			return hurt
		}
		return normal
	}}
}

// runEngine runs a game day on a manual clock and returns its journal.
func runEngine(t *testing.T, hurt float64) string {
	t.Helper()
	return runEngineOn(t, engineRunbook, func(h *targetstest.Executor) *metricstest.Querier { return hurting(h, 0.1, hurt) })
}

// runEngineOn runs src with metrics that the querier made from the fake
// host answers.
func runEngineOn(t *testing.T, src string, query func(*targetstest.Executor) *metricstest.Querier) string {
	t.Helper()
	return runEngineAs(t, src, query, 0)
}

// runEngineAs is runEngineOn with a facilitator who takes think seconds
// (of the run's clock) over the hypothesis and again over the blast
// radius before moving on, as people do; 0 moves on at once.
func runEngineAs(t *testing.T, src string, query func(*targetstest.Executor) *metricstest.Querier, think time.Duration) string {
	t.Helper()
	rb, err := runbook.Parse("engine.yaml", []byte(src), targets.Default())
	if err != nil {
		t.Fatal(err)
	}
	clock := gamedays.NewManualClock(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC))
	h := &targetstest.Executor{InjectOutput: "netem on", RollbackOutput: "netem off"}
	poller := metrics.NewPoller(query(h), metrics.Config{Panels: rb.Metrics.Panels, Step: time.Second, Now: clock.Now, Since: clock.Now()})
	path := filepath.Join(t.TempDir(), gamedays.JournalName)
	j, err := gamedays.CreateJournal(path, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	e := gamedays.New(rb, gamedays.Options{
		RunID: "engine-run", Source: []byte(src), Journal: j, Clock: clock, Catalogue: targets.Default(),
		Resolvers: map[string]targets.Resolver{"ssh": targetstest.Resolver{}}, Executors: map[string]targets.Executor{"ssh": h},
		Metrics: poller, AutoAdvance: think == 0, AutoConfirm: think == 0, Version: "test",
	})
	var thinking gamedays.Phase = -1
	var since time.Time
	asked := map[gamedays.Phase]bool{}
	done := make(chan error, 1)
	go func() { _, err := e.Run(context.Background()); done <- err }()
	// Move the clock a second whenever the engine is parked on it; bounded
	// in wall time so a bug cannot hang the test.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return path
		default:
		}
		// Each phase is moved on once, as a person presses a key once.
		if ph := e.Phase(); think > 0 && !asked[ph] && ph == gamedays.PhaseConclude {
			asked[ph] = e.Send(gamedays.Local, gamedays.Intent{Type: gamedays.IntentNext}) == nil
		} else if think > 0 && !asked[ph] && (ph == gamedays.PhaseHypothesis || ph == gamedays.PhaseBlastRadius) {
			if ph != thinking {
				thinking, since = ph, clock.Now()
			}
			if clock.Now().Sub(since) >= think {
				in := gamedays.Intent{Type: gamedays.IntentNext}
				if ph == gamedays.PhaseBlastRadius {
					in.Type = gamedays.IntentConfirm
				}
				asked[ph] = e.Send(gamedays.Local, in) == nil
			}
		}
		if clock.Settled() {
			clock.Advance(time.Second)
		} else {
			time.Sleep(50 * time.Microsecond)
		}
	}
	t.Fatalf("the engine did not finish within 30s: phase %s at %s", e.Phase(), clock.Now())
	return ""
}

func TestReportFromEngineJournal(t *testing.T) {
	for _, tc := range []struct {
		name    string
		hurt    float64
		verdict string
	}{
		{"held", 0.2, "held"},
		{"guardrail", 5, "aborted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Load(runEngine(t, tc.hurt))
			if err != nil {
				t.Fatal(err)
			}
			if r.Verdict.Value != tc.verdict || r.Status.Outcome != tc.verdict || !r.Status.Complete || len(r.Unreverted) != 0 {
				t.Fatalf("verdict %q, status %+v, unreverted %v", r.Verdict.Value, r.Status, r.Unreverted)
			}
			checkEngineReport(t, r)
			if tc.verdict == "held" {
				checkHeldReport(t, r)
			} else {
				checkAbortedReport(t, r)
			}
		})
	}
}

// checkEngineReport: what every run of the engine's test game day reports,
// held or aborted.
func checkEngineReport(t *testing.T, r *Report) {
	t.Helper()
	// 34% of three hosts, rounded up, is two.
	if len(r.Attacks) != 2 {
		t.Fatalf("attacks %+v", r.Attacks)
	}
	for _, a := range r.Attacks {
		if a.Result != "applied" || a.Rollback != "ok" || a.Output != "netem on" || a.RolledBackAt == nil {
			t.Errorf("attack %+v", a)
		}
	}
	if b := r.BlastRadius; len(b) != 1 || len(b[0].Resolved) != 3 || len(b[0].Selected) != 2 || *b[0].Seed != 11 || !strings.HasPrefix(b[0].Selection, "34% of members") {
		t.Errorf("blast radius %+v", b)
	}
	if p := r.Panels[0]; p.Name != "p95" || p.Unit != "seconds" || p.Baseline.Count == 0 || float64(p.Baseline.Median) != 0.1 {
		t.Errorf("baseline %+v", p)
	}
	if e := r.Hypothesis.Expectations[0]; float64(e.Limit) < 0.299 || float64(e.Limit) > 0.301 {
		t.Errorf("the expectation's limit is not resolved against the baseline: %+v", e)
	}
	if len(r.charts.panels) != 2 || len(r.charts.panels[0].series) == 0 {
		t.Fatalf("nothing to chart: %+v", r.charts.panels)
	}
}

// checkHeldReport: the evidence of a held run, and the p95 change under
// attack.
func checkHeldReport(t *testing.T, r *Report) {
	t.Helper()
	if len(r.Verdict.Evidence) != 2 || r.Verdict.Evidence[0].Held == nil || !*r.Verdict.Evidence[0].Held {
		t.Errorf("evidence %+v", r.Verdict.Evidence)
	}
	if d := float64(r.Panels[0].Delta); d < 0.099 || d > 0.101 {
		t.Errorf("p95 change under attack %g, want +100ms", d)
	}
}

// checkAbortedReport: a guardrail abort, its breach, and the chart up to the
// abort.
func checkAbortedReport(t *testing.T, r *Report) {
	t.Helper()
	if len(r.Aborts) != 1 || r.Aborts[0].Source != "guardrail" || len(r.Breaches) != 1 || len(r.Verdict.Evidence) != 1 {
		t.Errorf("aborts %+v, breaches %+v, evidence %+v", r.Aborts, r.Breaches, r.Verdict.Evidence)
	}
	// What led to the abort is in the journal, so the chart shows it.
	pts := r.charts.panels[0].series[0].pts
	if last, abort := pts[len(pts)-1], r.Aborts[0].T; last.x < abort-2 || last.y != 5 {
		t.Errorf("the chart's last p95 sample is %v; want the hurt latency just before the abort at %.0fs", last, abort)
	}
	if float64(r.Panels[0].Attack.Max) != 5 {
		t.Errorf("peak under attack %v, want 5s", r.Panels[0].Attack.Max)
	}
}

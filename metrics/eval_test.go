package metrics

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/metrics/metricstest"
	"github.com/gameday/gameday/runbook"
)

// ringSource is a Source over hand-filled rings.
type ringSource struct {
	step  time.Duration
	rings map[string]map[string]*Ring
}

func (s *ringSource) Step() time.Duration { return s.step }
func (s *ringSource) Series(panel string) []string {
	var out []string
	for k := range s.rings[panel] {
		out = append(out, k)
	}
	return out
}
func (s *ringSource) Points(panel, series string, from, to time.Time) []Point {
	if r := s.rings[panel][series]; r != nil {
		return r.Points(from, to)
	}
	return nil
}
func (s *ringSource) End(panel, series string) time.Time {
	if r := s.rings[panel][series]; r != nil {
		return r.End()
	}
	return time.Time{}
}

var evalT0 = time.Unix(1_700_000_000, 0)

// source builds a one-panel source; each series is a list of values, one per
// second from evalT0, with metricstest.Gap marking gaps.
func source(panel string, series map[string][]float64) *ringSource {
	src := &ringSource{step: time.Second, rings: map[string]map[string]*Ring{panel: {}}}
	for name, vals := range series {
		r := NewRing(time.Second, 1000)
		for i, v := range vals {
			at := evalT0.Add(time.Duration(i) * time.Second)
			if metricstest.IsGap(v) {
				r.Extend(at)
			} else {
				r.Put(at, v)
			}
		}
		src.rings[panel][name] = r
	}
	return src
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func at(s int) time.Time { return evalT0.Add(time.Duration(s) * time.Second) }

func TestCheckVerdicts(t *testing.T) {
	panels := []runbook.Panel{{Name: "p95", Unit: runbook.UnitSeconds}}
	check := func(th string) runbook.Check { return runbook.Check{Panel: "p95", Threshold: mustThreshold(t, th)} }
	cases := []struct {
		name   string
		series map[string][]float64
		th     string
		want   Verdict
	}{
		{"held", map[string][]float64{"": repeat(0.2, 60)}, "< 300ms", Held},
		{"broken", map[string][]float64{"": repeat(0.4, 60)}, "< 300ms", Broken},
		{"one spike does not break it", map[string][]float64{"": append(repeat(0.2, 59), 5)}, "< 300ms", Held},
		{"a sustained tenth does", map[string][]float64{"": append(repeat(0.2, 54), repeat(0.5, 6)...)}, "< 300ms", Broken},
		{"no data is not held", map[string][]float64{"": repeat(metricstest.Gap, 60)}, "< 300ms", NoData},
		{"all NaN is no data", map[string][]float64{"": repeat(math.NaN(), 60)}, "< 300ms", NoData},
		{"+Inf is slower than any limit", map[string][]float64{"": repeat(math.Inf(1), 60)}, "< 300ms", Broken},
		{"+Inf satisfies a lower bound", map[string][]float64{"": repeat(math.Inf(1), 60)}, "> 300ms", Held},
		{"one broken host breaks the panel", map[string][]float64{"a": repeat(0.2, 60), "b": repeat(0.9, 60)}, "< 300ms", Broken},
		{"one blind host: no data", map[string][]float64{"a": repeat(0.2, 60), "b": repeat(metricstest.Gap, 60)}, "< 300ms", NoData},
		{"no series", map[string][]float64{}, "< 300ms", NoData},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := NewEvaluator(source("p95", c.series), panels)
			r := ev.Check(check(c.th), at(0), at(59))
			if r.Verdict != c.want {
				t.Errorf("verdict %s, want %s: %s", r.Verdict, c.want, r.Worst.Text)
			}
			if r.Worst.Text == "" {
				t.Error("no evidence text")
			}
		})
	}
}

func TestCheckRelativeToBaseline(t *testing.T) {
	panels := []runbook.Panel{{Name: "p95", Unit: runbook.UnitSeconds}}
	// 60s of baseline at 200ms, then 60s at 280ms, then 60s at 350ms.
	vals := append(append(repeat(0.2, 60), repeat(0.28, 60)...), repeat(0.35, 60)...)
	src := source("p95", map[string][]float64{"": vals})
	ev := NewEvaluator(src, panels)
	ev.Baseline = TakeBaseline(src, []string{"p95"}, at(0), at(59))
	if b := ev.Baseline.Value("p95", ""); b != 0.2 {
		t.Fatalf("baseline = %v, want 0.2", b)
	}
	c := runbook.Check{Panel: "p95", Threshold: mustThreshold(t, "< baseline * 1.5")}
	if r := ev.Check(c, at(60), at(119)); r.Verdict != Held || math.Abs(r.Worst.Limit-0.3) > 1e-9 || r.Worst.Baseline != 0.2 {
		t.Errorf("280ms against baseline*1.5: %s (limit %v, baseline %v)", r.Verdict, r.Worst.Limit, r.Worst.Baseline)
	}
	r := ev.Check(c, at(120), at(179))
	if r.Verdict != Broken {
		t.Errorf("350ms against baseline*1.5: %s", r.Verdict)
	}
	if !r.Worst.From.Equal(at(120)) || !r.Worst.To.Equal(at(179)) || r.Worst.Count != 60 || r.Worst.Check != "< baseline * 1.5" {
		t.Errorf("evidence = %+v", r.Worst)
	}
	// Without a baseline a relative check cannot be decided.
	ev.Baseline = TakeBaseline(source("p95", map[string][]float64{"": repeat(metricstest.Gap, 60)}), []string{"p95"}, at(0), at(59))
	if r := ev.Check(c, at(60), at(119)); r.Verdict != NoData || !strings.Contains(r.Worst.Text, "baseline") {
		t.Errorf("no baseline: %s %s", r.Verdict, r.Worst.Text)
	}
}

func TestGuardrailFor(t *testing.T) {
	panels := []runbook.Panel{{Name: "error_rate", Unit: runbook.UnitRatio}}
	c := runbook.Check{Panel: "error_rate", Threshold: mustThreshold(t, "> 10% for 15s")}
	// Healthy for 10s, then breaching from second 10 on.
	vals := append(repeat(0.01, 10), repeat(0.5, 30)...)
	for end := 5; end < 40; end++ {
		src := source("error_rate", map[string][]float64{"": vals[:end+1]})
		g := NewEvaluator(src, panels).Guardrail(c)
		breached := max(0, end-10)
		wantFired := end >= 10 && breached >= 15
		if g.Fired != wantFired {
			t.Fatalf("at second %d (breached %ds): fired = %v, want %v", end, breached, g.Fired, wantFired)
		}
		if end >= 10 && (g.Breached != time.Duration(breached)*time.Second || !g.Since.Equal(at(10)) || g.Pending == g.Fired) {
			t.Fatalf("at second %d: %+v", end, g)
		}
		if wantFired && !strings.Contains(g.Evidence.Text, "fired") {
			t.Errorf("evidence %q", g.Evidence.Text)
		}
	}

	// A gap ends the breach: the clock restarts after it.
	gappy := append(append(repeat(0.5, 10), metricstest.Gap), repeat(0.5, 10)...)
	g := NewEvaluator(source("error_rate", map[string][]float64{"": gappy}), panels).Guardrail(c)
	if g.Fired || g.Breached != 9*time.Second {
		t.Errorf("after a gap: %+v, want pending for 9s", g)
	}
	// NaN (no traffic) is not a breach.
	g = NewEvaluator(source("error_rate", map[string][]float64{"": append(repeat(0.5, 20), math.NaN())}), panels).Guardrail(c)
	if g.Fired || g.Pending {
		t.Errorf("NaN at the newest step: %+v", g)
	}
	// +Inf latency trips a "greater than" guardrail.
	lat := runbook.Check{Panel: "p95", Threshold: mustThreshold(t, "> 2s")}
	g = NewEvaluator(source("p95", map[string][]float64{"": {0.1, math.Inf(1)}}), []runbook.Panel{{Name: "p95", Unit: runbook.UnitSeconds}}).Guardrail(lat)
	if !g.Fired {
		t.Errorf("+Inf against > 2s: %+v", g)
	}
	// Per host: the one breaching host fires it and is named.
	g = NewEvaluator(source("error_rate", map[string][]float64{"a": repeat(0.01, 30), "b": repeat(0.5, 30)}), panels).Guardrail(c)
	if !g.Fired || g.Series != "b" {
		t.Errorf("per host: %+v", g)
	}
}

func TestBlind(t *testing.T) {
	start := evalT0
	now := start.Add(90 * time.Second)
	cases := []struct {
		name   string
		h      Health
		fired  bool
		reason string
	}{
		{"fresh", Health{Panel: "p95", Started: start, LastAnswer: now, LastData: now.Add(-2 * time.Second)}, false, ""},
		{"never answered", Health{Panel: "p95", Started: start}, true, "has not answered"},
		{"answers but empty", Health{Panel: "p95", Started: start, LastAnswer: now, Empty: true}, true, "no series"},
		{"data went stale", Health{Panel: "p95", Started: start, LastAnswer: now, LastData: now.Add(-61 * time.Second)}, true, "no data for 1m1s"},
		{"just under", Health{Panel: "p95", Started: start, LastAnswer: now, LastData: now.Add(-59 * time.Second)}, false, ""},
	}
	for _, c := range cases {
		b := Blind([]Health{c.h}, time.Minute, now)
		if b.Fired != c.fired || !strings.Contains(b.Reason, c.reason) {
			t.Errorf("%s: %+v", c.name, b)
		}
	}
	if b := Blind([]Health{{Panel: "p95", Started: start}}, 0, now); b.Fired {
		t.Error("metrics_blind 0 must be off")
	}
}

// A check's words put the value first and say the statistic behind it in
// words, not as "p95 of 60 steps".
func TestCheckWords(t *testing.T) {
	panels := []runbook.Panel{{Name: "p95", Unit: runbook.UnitSeconds}}
	for _, c := range []struct{ th, want string }{
		{"< 300ms", "p95 broken: 400ms (95th percentile of 60 samples), against < 300ms"},
		{"> 500ms", "p95 broken: 400ms (5th percentile of 60 samples), against > 500ms"},
	} {
		ev := NewEvaluator(source("p95", map[string][]float64{"": repeat(0.4, 60)}), panels)
		r := ev.Check(runbook.Check{Panel: "p95", Threshold: mustThreshold(t, c.th)}, at(0), at(59))
		if !strings.HasPrefix(r.Worst.Text, c.want) {
			t.Errorf("%s reads %q; want it to start %q", c.th, r.Worst.Text, c.want)
		}
		if !strings.HasPrefix(r.Worst.Statistic, "p") {
			t.Errorf("statistic %q; the JSON keeps the short form", r.Worst.Statistic)
		}
	}
}

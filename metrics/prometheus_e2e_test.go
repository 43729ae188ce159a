package metrics

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/runbook"
)

var testBuckets = []float64{0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6}

// newExporter is a service's instrumentation whose latency and error ratio
// the test sets. Requests come at a steady pace so rate() sees a constant
// flow; every request of a regime has the same latency, so the true P95 is
// that latency and the charted one must fall in its bucket.
func newExporter(t *testing.T, latency, errRatio float64) *e2e.Service {
	t.Helper()
	return e2e.StartTraffic(t, e2e.Traffic{Latency: latency, Errors: errRatio, ErrCode: "503", ZeroSeries: true, Buckets: testBuckets,
		Tick: 5 * time.Millisecond, PerTick: 2})
}

// startPrometheus runs the real Prometheus on a free loopback port scraping
// targets every second, and stops it when the test ends.
func startPrometheus(t *testing.T, targets ...string) string {
	t.Helper()
	return e2e.StartPrometheus(t, targets...)
}

// pollUntil polls p until cond holds on the poller's state, or fails at the
// deadline.
func pollUntil(t *testing.T, p *Poller, deadline time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			t.Logf("poll: %v", err)
		}
		if cond() {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for %s", deadline, what)
		case <-tick.C:
		}
	}
}

func lastValue(p *Poller, panel, series string) (Point, bool) {
	pts := p.Points(panel, series, time.Time{}, time.Time{})
	for i := len(pts) - 1; i >= 0; i-- {
		if !pts[i].Missing && !math.IsNaN(pts[i].V) {
			return pts[i], true
		}
	}
	return Point{}, false
}

func TestRealPrometheus(t *testing.T) {
	// Two instances of the service; only one is "attacked", and the per-
	// instance panel must show which.
	a := newExporter(t, 0.03, 0.10)
	b := newExporter(t, 0.03, 0.10)
	url := startPrometheus(t, a.Addr, b.Addr)

	ctx := context.Background()
	c, err := NewClient(ctx, runbook.Metrics{URL: url, Timeout: 5 * time.Second}, Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	conv := Conventions{Selector: `job="app"`, Window: 4 * time.Second}
	panels := DefaultPanels(conv)
	byInstance := conv
	byInstance.By = "instance"
	perHost := DefaultPanels(byInstance)[0]
	perHost.Name = "p95_by_instance"
	panels = append(panels, perHost)

	p := NewPoller(c.API, Config{Panels: panels, Step: time.Second, Timeout: 5 * time.Second, URL: url,
		Since: time.Now().Add(-2 * time.Second)})
	ev := NewEvaluator(p, panels)

	// Wait for the rate window to fill: a few scrapes of both instances.
	pollUntil(t, p, 20*time.Second, "baseline data on every panel", func() bool {
		_, ok1 := lastValue(p, PanelP95, "")
		_, ok2 := lastValue(p, PanelErrorRate, "")
		return ok1 && ok2 && len(p.Series(perHost.Name)) == 2
	})

	t.Run("check metrics finds data", func(t *testing.T) { checkPanelsFindData(t, ctx, c, panels, url) })

	t.Run("charted P95 and error rate match the exporter", func(t *testing.T) { checkChartedValues(t, p, a) })

	// Step: instance a gets slow and fails more. A guardrail on the P95
	// with a `for` window must not fire before that window has passed.
	guard := runbook.Check{Panel: PanelP95, Threshold: mustThreshold(t, "> 300ms for 3s")}
	if g := ev.Guardrail(guard); g.Fired || g.Pending {
		t.Fatalf("guardrail breached before the step: %+v", g)
	}
	changed, seen, fired, firedWall := breachOne(t, p, ev, guard, a, perHost.Name)

	t.Run("latency step seen within two scrape intervals", func(t *testing.T) {
		lag := seen.T.Sub(changed)
		t.Logf("step made at %s, first charted at step %s (%s later)", changed.Format("15:04:05.000"), seen.T.Format("15:04:05.000"), lag)
		if lag > 2*time.Second {
			t.Errorf("step seen %s after it was made, want within two 1s scrape intervals", lag)
		}
		// The other instance was not attacked and must not show it.
		if pt, ok := lastValue(p, perHost.Name, b.Addr); !ok || pt.V > 0.1 {
			t.Errorf("untouched instance %s: P95 %v (ok=%v), want still fast", b.Addr, pt.V, ok)
		}
	})

	t.Run("guardrail fires after its for window, not before", func(t *testing.T) {
		t.Logf("%s", fired.Evidence.Text)
		if fired.Breached < 3*time.Second {
			t.Errorf("fired after %s of breach, want at least 3s", fired.Breached)
		}
		if firedWall.Sub(changed) < 3*time.Second {
			t.Errorf("fired %s after the step, before its 3s window could have passed", firedWall.Sub(changed))
		}
		if fired.Since.Before(changed.Add(-time.Second)) {
			t.Errorf("breach began at %s, before the step at %s", fired.Since, changed)
		}
	})

	t.Run("error rate follows", func(t *testing.T) {
		// Both instances at 200 req/s: 10% and 50% errors average to 30%.
		pollUntil(t, p, 10*time.Second, "error rate near 0.30", func() bool {
			er, ok := lastValue(p, PanelErrorRate, "")
			return ok && math.Abs(er.V-0.30) <= 0.02
		})
	})
}

// checkPanelsFindData: every default panel has data, a misspelt metric is
// empty and a syntax error names its panel.
func checkPanelsFindData(t *testing.T, ctx context.Context, c *Client, panels []runbook.Panel, url string) {
	checks := CheckPanelsAt(ctx, c.API, panels, time.Now(), 5*time.Second, url)
	for _, pc := range checks {
		if !pc.OK() {
			t.Errorf("%s", pc)
		}
	}
	bad := CheckPanelsAt(ctx, c.API, []runbook.Panel{
		{Name: "typo", Query: `rate(http_requests_totl[1m])`},
		{Name: "broken", Query: `sum(rate(http_requests_total[1m])`},
	}, time.Now(), 5*time.Second, url)
	if !bad[0].Empty || bad[0].Err != nil {
		t.Errorf("misspelt metric: want empty, got %s", bad[0])
	}
	if qe, ok := bad[1].Err.(*QueryError); !ok || qe.Kind != KindSyntax || !strings.Contains(qe.Error(), `panel "broken"`) || !strings.Contains(qe.Msg, "parse error") {
		t.Errorf("syntax error: want a syntax QueryError naming the panel with Prometheus's parse message, got %v", bad[1].Err)
	}
}

// checkChartedValues: the charted P95 lies in the bucket of the true one and
// the error rate is the exporter's.
func checkChartedValues(t *testing.T, p *Poller, x *e2e.Service) {
	pt, _ := lastValue(p, PanelP95, "")
	lo, hi := x.Bucket(0.03)
	if pt.V < lo || pt.V > hi {
		t.Errorf("P95 = %g, want within the bucket (%g, %g] that holds the true 0.03", pt.V, lo, hi)
	}
	er, _ := lastValue(p, PanelErrorRate, "")
	if math.Abs(er.V-0.10) > 0.01 {
		t.Errorf("error rate = %g, want 0.10 ± 0.01", er.V)
	}
}

// breachOne makes instance a slow and failing, and waits until the per-host
// panel charts the step and the guardrail has fired; the guardrail must not
// un-fire while the breach lasts.
func breachOne(t *testing.T, p *Poller, ev *Evaluator, guard runbook.Check, a *e2e.Service, perHost string) (changed time.Time, seen Point, fired GuardResult, firedWall time.Time) {
	t.Helper()
	changed = a.Set(0.5, 0.5)

	pollUntil(t, p, 20*time.Second, "the latency step and the guardrail", func() bool {
		if seen.T.IsZero() {
			for _, pt := range p.Points(perHost, a.Addr, changed.Add(-time.Second), time.Time{}) {
				if !pt.Missing && pt.V > 0.4 {
					seen = pt
					break
				}
			}
		}
		g := ev.Guardrail(guard)
		if g.Fired && firedWall.IsZero() {
			fired, firedWall = g, time.Now()
		}
		if !g.Fired && !firedWall.IsZero() {
			t.Errorf("guardrail un-fired while the breach continued: %+v", g)
		}
		return !seen.T.IsZero() && !firedWall.IsZero()
	})
	return changed, seen, fired, firedWall
}

func mustThreshold(t *testing.T, s string) runbook.Threshold {
	t.Helper()
	th, err := runbook.ParseThreshold(s)
	if err != nil {
		t.Fatalf("parse threshold %q: %v", s, err)
	}
	return th
}

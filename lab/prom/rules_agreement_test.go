package prom

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/metrics/alerts"
	"github.com/gameday/gameday/runbook"
)

// TestRulesAgreeWithPrometheus evaluates one rule file in Debian's
// Prometheus and in the lab, both scraping the same gauge, and reads both
// through gameday's own alert watcher (client_golang's rules API and the
// ALERTS series): the lab's pending, firing and resolved times agree with
// Prometheus's to within one evaluation interval (1s).
//
// The two servers scrape at their own instants within the second, so each
// sees a change up to a scrape apart; the gauge notes when each first
// scraped the new value, and the times are compared from there: what is
// left is the rule evaluation, which must agree to within one interval.
func TestRulesAgreeWithPrometheus(t *testing.T) {
	e2e.Need(t, "prometheus")
	g := serveWatchedGauge(t)
	addr := g.addr

	// Prometheus sends its alerts nowhere: only its rules are compared.
	realURL := e2e.StartPrometheusAlerting(t, fmt.Sprintf("  - job_name: app\n    static_configs:\n      - targets: [%q]\n", addr), e2e.ErrorRatioRules, "http://"+e2e.FreeAddr(t))
	lab, err := Start(context.Background(), Options{Targets: []Target{{Job: "app", URL: "http://" + addr + "/metrics"}}, Interval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	if err := lab.SetRules("rules.yml", []byte(e2e.ErrorRatioRules)); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	watchers := map[string]*alerts.Watcher{
		"prometheus": {Prom: e2e.PrometheusAPI(t, realURL), PromURL: realURL},
		"lab":        {Prom: e2e.PrometheusAPI(t, lab.URL()), PromURL: lab.URL()},
	}
	waitWatchersReady(t, ctx, watchers)
	bad := runbook.Alerts{Expect: []runbook.ExpectedAlert{{Pos: runbook.Pos{Line: 3, Col: 7}, Name: "Nope", FiresWithin: time.Minute}}}
	if err := watchers["lab"].Check(ctx, "rb.yaml", bad); err == nil || err.Error() != "rb.yaml:3:7: alerts.expect[0]: no alerting rule named Nope at "+lab.URL()+"; looked in 1 rule group(s): app (rules.yml)" {
		t.Errorf("unknown alert in the lab: %v", err)
	}

	since := time.Now()
	g.step(0.5)
	got := map[string]map[string]time.Time{"prometheus": {}, "lab": {}}
	pollBoth(t, ctx, watchers, since, got, alerts.Firing)
	raised := g.scraped()

	// The lab lists the firing alert the way Prometheus does.
	labAlerts, err := watchers["lab"].Prom.Alerts(ctx)
	if err != nil || len(labAlerts.Alerts) != 1 || labAlerts.Alerts[0].State != "firing" || labAlerts.Alerts[0].Labels["severity"] != "page" || labAlerts.Alerts[0].Value != "5e-01" {
		t.Errorf("lab /api/v1/alerts: %+v, %v", labAlerts, err)
	}
	realAlerts, err := watchers["prometheus"].Prom.Alerts(ctx)
	if err != nil || len(realAlerts.Alerts) != 1 || !realAlerts.Alerts[0].Labels.Equal(labAlerts.Alerts[0].Labels) {
		t.Errorf("labels differ: Prometheus %+v, lab %+v (%v)", realAlerts, labAlerts, err)
	}

	g.step(0.0)
	pollBoth(t, ctx, watchers, since, got, alerts.Resolved)
	lowered := g.scraped()
	for _, s := range []string{alerts.Pending, alerts.Firing, alerts.Resolved} {
		from := raised
		if s == alerts.Resolved {
			from = lowered
		}
		r, l := got["prometheus"][s].Sub(from["prometheus"]), got["lab"][s].Sub(from["lab"])
		if d := l - r; d > time.Second || d < -time.Second {
			t.Errorf("%s: %s after the scrape that saw the change in Prometheus, %s in the lab: %s apart, more than one evaluation interval", s, r, l, d)
		}
		t.Logf("%s: Prometheus T+%s (%s after its scrape saw the change), lab T+%s (%s after)", s,
			got["prometheus"][s].Sub(since).Round(time.Millisecond), r.Round(time.Millisecond), got["lab"][s].Sub(since).Round(time.Millisecond), l.Round(time.Millisecond))
	}
	// for: 2s, evaluated every second: both fire exactly two evaluations
	// after pending.
	for name, g := range got {
		if d := g[alerts.Firing].Sub(g[alerts.Pending]); d != 2*time.Second {
			t.Errorf("%s: firing %s after pending, want the rule's for: 2s", name, d)
		}
	}
}

// watchedGauge serves app_error_ratio and notes when each scraper (the
// lab, by its user agent, or Prometheus) first scraped its current value.
type watchedGauge struct {
	addr  string
	ratio atomic.Value
	mu    sync.Mutex
	saw   map[string]time.Time // by scraper: when it first scraped the current value
}

func serveWatchedGauge(t *testing.T) *watchedGauge {
	t.Helper()
	g := &watchedGauge{saw: map[string]time.Time{}}
	g.ratio.Store(0.0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := "prometheus"
		if r.UserAgent() == "gameday-lab" {
			who = "lab"
		}
		g.mu.Lock()
		v := g.ratio.Load().(float64)
		if g.saw[who].IsZero() {
			g.saw[who] = time.Now()
		}
		g.mu.Unlock()
		fmt.Fprintf(w, "# TYPE app_error_ratio gauge\napp_error_ratio %g\n", v)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	g.addr = l.Addr().String()
	return g
}

// step sets the gauge to v and forgets who scraped the value before.
func (g *watchedGauge) step(v float64) {
	g.mu.Lock()
	g.ratio.Store(v)
	clear(g.saw)
	g.mu.Unlock()
}

// scraped is when each scraper first scraped the current value.
func (g *watchedGauge) scraped() map[string]time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return maps.Clone(g.saw)
}

// waitWatchersReady waits, at most 20s, until each watcher's server has
// loaded the rules and scraped the gauge, and checks their evaluation
// interval.
func waitWatchersReady(t *testing.T, ctx context.Context, watchers map[string]*alerts.Watcher) {
	t.Helper()
	expect := runbook.Alerts{Expect: []runbook.ExpectedAlert{{Name: "HighErrorRate", FiresWithin: time.Minute}}}
	for name, w := range watchers {
		deadline := time.Now().Add(20 * time.Second)
		var err error
		for err = w.Check(ctx, "rb.yaml", expect); err != nil || len(e2e.Query(t, w.Prom, "app_error_ratio", time.Now())) == 0; err = w.Check(ctx, "rb.yaml", expect) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: rules or gauge not there after 20s: %v", name, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if w.Interval() != time.Second {
			t.Errorf("%s: group interval %s, want 1s", name, w.Interval())
		}
	}
}

// pollBoth polls every watcher, for at most 30s, until each has seen
// state until, noting in got the first time of every state it sees.
func pollBoth(t *testing.T, ctx context.Context, watchers map[string]*alerts.Watcher, since time.Time, got map[string]map[string]time.Time, until string) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		done := true
		for name, w := range watchers {
			ts, err := w.Poll(ctx, since, time.Now())
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, tr := range ts {
				if got[name][tr.State].IsZero() {
					got[name][tr.State] = tr.At
				}
			}
			done = done && !got[name][until].IsZero()
		}
		if done {
			return
		}
	}
	t.Fatalf("no %s on both after 30s: %v", until, got)
}

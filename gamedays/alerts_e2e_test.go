package gamedays_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/gamedays/report"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/metrics/alerts"
	"github.com/gameday/gameday/metrics/alerts/alertstest"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/targetstest"
)

const alertRunbook = `version: 1
name: the error alert pages
metrics:
  step: 1s
  panels:
    error_rate: {query: app_error_ratio, unit: ratio}
baseline:
  duration: 3s
  steady_state: {error_rate: "< 10%%"}
hypothesis:
  statement: failing requests page the on-call within seconds
  expect: {error_rate: "< 100%%"}
targets:
  web: {ssh: {hosts: [web-1]}}
blast_radius:
  web: {all: true}
attacks:
  - {name: errors, target: web, kind: process-kill, params: {name: app}, duration: %s}
alerts:
  alertmanager: %s
  expect:
    - name: HighErrorRate
      labels: {severity: page}
      fires_within: %s
      notified_within: %s
      resolves_within: 15s
  forbid:
    - labels: {severity: ticket}
`

// TestAlertsOnRealPrometheus runs two game days against real Prometheus
// and Alertmanager: one whose fault does not move the error ratio (the
// alert must not fire: a monitoring gap) and one whose fault does (the
// alert fires, pages gameday's webhook and resolves after the rollback).
func TestAlertsOnRealPrometheus(t *testing.T) {
	h := &targetstest.Executor{}
	var hurts atomic.Bool
	path := alertstest.StartAlerting(t, func() float64 {
		if hurts.Load() && h.Active() > 0 {
			return 0.5
		}
		return 0
	})
	waitForRules(t, path.API)

	t.Run("a fault the alert does not see is a monitoring gap", func(t *testing.T) {
		evs, out := runAlertGameDay(t, path, h, "quiet", "6s", "6s")
		if out.Verdict != gamedays.VerdictRefuted || !strings.Contains(out.Reason, `monitoring gap: HighErrorRate{severity="page"} did not fire within 6s; the error rate was never above its threshold (0.1)`) {
			t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
		}
		s := gamedays.Fold(evs)
		if len(s.AlertMarks) != 0 || len(s.AlertResults) != 2 || s.AlertResults[0].Held || !s.AlertResults[1].Held {
			t.Errorf("marks %v, results %+v", s.AlertMarks, s.AlertResults)
		}
	})

	t.Run("a fault that raises errors fires, pages and resolves", func(t *testing.T) {
		hurts.Store(true)
		evs, out := runAlertGameDay(t, path, h, "loud", "12s", "20s")
		if out.Verdict != gamedays.VerdictHeld {
			t.Fatalf("verdict %s: %s", out.Verdict, out.Reason)
		}
		s := gamedays.Fold(evs)
		if len(s.AlertResults) != 2 || !s.AlertResults[0].Held {
			t.Fatalf("results %+v", s.AlertResults)
		}
		r := s.AlertResults[0]
		if r.Pending.IsZero() || r.Firing.IsZero() || r.Notified.IsZero() || r.Resolved.IsZero() {
			t.Fatalf("a state is missing: %+v", r)
		}
		// The panel the rule watches crossed the rule's threshold before
		// Prometheus saw the rule's condition hold (pending), give or take
		// the step the panel is read at.
		if r.Watched != "the error rate" || r.Past != "above its threshold (0.1)" || r.Crossed.IsZero() || r.Crossed.After(r.Pending.Add(time.Second)) || r.Crossed.Before(r.From) {
			t.Errorf("watched %q %q crossed %s, pending %s, inject %s", r.Watched, r.Past, r.Crossed, r.Pending, r.From)
		}
		checkMarksAgreeWithPrometheus(t, path.API, s, evs, r)
		checkReportTabulatesAlerts(t, evs, r)
	})
}

// runAlertGameDay runs one game day of alertRunbook on the alerting path
// to its end and returns its journal and outcome.
func runAlertGameDay(t *testing.T, path *alertstest.Alerting, h *targetstest.Executor, name, duration, firesWithin string) ([]gamedays.Event, gamedays.Outcome) {
	t.Helper()
	src := fmt.Sprintf(alertRunbook, duration, path.Alertmanager, firesWithin, firesWithin)
	rb, err := runbook.Parse(name+".yaml", []byte(src), targets.Default())
	if err != nil {
		t.Fatal(err)
	}
	clock := gamedays.WallClock()
	poller := metrics.NewPoller(path.API, metrics.Config{Panels: rb.Metrics.Panels, Step: time.Second, Timeout: 5 * time.Second, URL: path.Prometheus, Since: time.Now().Add(-time.Second)})
	jpath := filepath.Join(t.TempDir(), gamedays.JournalName)
	j, err := gamedays.CreateJournal(jpath, clock)
	if err != nil {
		t.Fatal(err)
	}
	e := gamedays.New(rb, gamedays.Options{
		RunID: name, Source: []byte(src), Journal: j, Clock: clock, Catalogue: targets.Default(),
		Resolvers: map[string]targets.Resolver{"ssh": targetstest.Resolver{}}, Executors: map[string]targets.Executor{"ssh": h},
		Metrics: poller, AutoAdvance: true, AutoConfirm: true,
		Alerts: path.Watcher(),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := e.Run(ctx)
	j.Close()
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := gamedays.ReadJournal(jpath)
	if err != nil {
		t.Fatal(err)
	}
	return evs, out
}

// checkMarksAgreeWithPrometheus: every mark agrees with Prometheus's own
// ALERTS, asked at the evaluation interval, and was journalled within a
// poll of it.
func checkMarksAgreeWithPrometheus(t *testing.T, api v1.API, s *gamedays.State, evs []gamedays.Event, r gamedays.AlertResult) {
	t.Helper()
	rng := v1.Range{Start: r.From.Add(-time.Second).Truncate(time.Second), End: time.Now(), Step: time.Second}
	starts := alertstest.AlertStarts(t, api, "HighErrorRate", rng)
	for _, st := range []string{alerts.Pending, alerts.Firing} {
		first := starts[st]
		at := map[string]time.Time{alerts.Pending: r.Pending, alerts.Firing: r.Firing}[st]
		if d := first.Sub(at); d < 0 || d > time.Second {
			t.Errorf("journal says %s at %s, Prometheus's ALERTS first at step %s", st, at, first)
		}
	}
	poll := time.Second
	for _, ev := range evs {
		if ev.Type == gamedays.EvAlert && ev.Alert.State != alerts.Received {
			if lag := ev.Time.Sub(ev.Alert.At); lag > poll+time.Second {
				t.Errorf("%s journalled %s after it happened, more than a poll (1s) and an evaluation (1s)", s.Describe(ev), lag)
			}
		}
	}
	t.Logf("panel crossed %s, time to pending %s, to fire %s, to page %s from the inject; resolved %s after the rollback",
		r.Crossed.Sub(r.From).Round(time.Millisecond), r.Pending.Sub(r.From).Round(time.Millisecond), r.Firing.Sub(r.From).Round(time.Millisecond),
		r.Notified.Sub(r.From).Round(time.Millisecond), r.Resolved.Sub(r.RolledBack).Round(time.Millisecond))
	var lines []string
	for _, ev := range evs {
		if ev.Type == gamedays.EvAlert || ev.Type == gamedays.EvAlerts {
			lines = append(lines, s.Describe(ev))
		}
	}
	t.Logf("journal:\n%s", strings.Join(lines, "\n"))
}

// checkReportTabulatesAlerts: the report tabulates the same times from
// the journal alone, and its chart marks each transition.
func checkReportTabulatesAlerts(t *testing.T, evs []gamedays.Event, r gamedays.AlertResult) {
	t.Helper()
	rep, err := report.Build(evs, false)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	dir := t.TempDir()
	if err := rep.Markdown(&md, dir); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(filepath.Join(dir, report.ChartFile("error_rate")))
	if err != nil {
		t.Fatal(err)
	}
	for _, mark := range []string{">HighErrorRate pending<", ">HighErrorRate firing<", ">HighErrorRate paged<", ">HighErrorRate resolved<"} {
		if !bytes.Contains(svg, []byte(mark)) {
			t.Errorf("the error_rate chart does not mark %s", mark)
		}
	}
	firing := gamedays.FormatDuration(r.Firing.Sub(r.From).Round(100*time.Millisecond)) + " (limit 20s)"
	if !strings.Contains(md.String(), "## Alerts") || !strings.Contains(md.String(), firing) || !strings.Contains(md.String(), `HighErrorRate{severity="page"}`) {
		t.Errorf("report lacks the alerts table with firing %s:\n%s", firing, md.String())
	}
}

// waitForRules waits until Prometheus has loaded the rule file and
// scraped the gauge a few times, so the baseline has data.
func waitForRules(t *testing.T, api v1.API) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		gs, err := alerts.Rules(context.Background(), api)
		if err == nil && len(gs) > 0 && len(e2e.Query(t, api, "count_over_time(app_error_ratio[1m]) >= 3", time.Now())) > 0 {
			return
		}
	}
	t.Fatal("Prometheus did not load the rules and scrape the gauge within 20s")
}

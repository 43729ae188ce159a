package alerts_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/metrics/alerts"
	"github.com/gameday/gameday/metrics/alerts/alertstest"
	"github.com/gameday/gameday/runbook"
)

func TestRealPrometheusAndAlertmanager(t *testing.T) {
	var ratio atomic.Value
	ratio.Store(0.0)
	path := alertstest.StartAlerting(t, func() float64 { return ratio.Load().(float64) })
	hook, prom, api := path.Hook, path.Prometheus, path.API
	w := path.Watcher()
	ctx := context.Background()
	// Rule groups load shortly after Prometheus is ready.
	expect := runbook.Alerts{Expect: []runbook.ExpectedAlert{{Pos: runbook.Pos{Line: 40, Col: 7}, Name: "HighErrorRate", FiresWithin: 30 * time.Second, NotifiedWithin: 40 * time.Second}}}
	deadline := time.Now().Add(15 * time.Second)
	var err error
	for err = w.Check(ctx, "rb.yaml", expect); err != nil && time.Now().Before(deadline); err = w.Check(ctx, "rb.yaml", expect) {
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if w.Interval() != time.Second {
		t.Errorf("interval = %s, want the group's 1s", w.Interval())
	}

	t.Run("unknown alert names the runbook place and the groups", func(t *testing.T) {
		bad := runbook.Alerts{Expect: []runbook.ExpectedAlert{{Pos: runbook.Pos{Line: 41, Col: 9}, Name: "HighErrorRat", FiresWithin: time.Minute}}}
		err := w.Check(ctx, "rb.yaml", bad)
		want := "rb.yaml:41:9: alerts.expect[0]: no alerting rule named HighErrorRat at " + prom + "; looked in 1 rule group(s): app ("
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v\nwant %s", err, want)
		}
	})
	t.Run("unreachable alertmanager names the address", func(t *testing.T) {
		dead := "http://" + e2e.FreeAddr(t)
		w2 := &alerts.Watcher{Prom: api, PromURL: prom, Alertmanager: &alerts.Alertmanager{URL: dead}}
		err := w2.Check(ctx, "rb.yaml", runbook.Alerts{})
		if err == nil || !strings.Contains(err.Error(), "rb.yaml: alerts.alertmanager: alertmanager at "+dead+" does not answer") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("webhook port in use", func(t *testing.T) {
		_, err := alerts.Listen(hook.Addr(), nil)
		if err == nil || !strings.Contains(err.Error(), "--alert-webhook "+hook.Addr()+": cannot listen") || !strings.Contains(err.Error(), "address already in use") {
			t.Errorf("got %v", err)
		}
	})

	since := time.Now()
	ratio.Store(0.5)
	stepped := time.Now()
	got, seenAt := pollUntilNotified(t, ctx, w, since)
	checkTransitions(t, api, since, stepped, got, seenAt)

	ratio.Store(0.0)
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end) && got[alerts.Resolved].IsZero(); time.Sleep(500 * time.Millisecond) {
		ts, err := w.Poll(ctx, since, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range ts {
			if tr.State == alerts.Resolved {
				got[tr.State] = tr.At
			}
		}
	}
	if got[alerts.Resolved].IsZero() || !got[alerts.Resolved].After(got[alerts.Firing]) {
		t.Errorf("resolved %s, firing %s", got[alerts.Resolved], got[alerts.Firing])
	}
}

// pollUntilNotified polls the watcher until HighErrorRate's page has been
// received, for at most 40s, and returns when each state was set and when
// the watcher first saw it.
func pollUntilNotified(t *testing.T, ctx context.Context, w *alerts.Watcher, since time.Time) (got, seenAt map[string]time.Time) {
	t.Helper()
	got, seenAt = map[string]time.Time{}, map[string]time.Time{}
	for end := time.Now().Add(40 * time.Second); time.Now().Before(end) && got[alerts.Notified].IsZero(); time.Sleep(500 * time.Millisecond) {
		ts, err := w.Poll(ctx, since, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range ts {
			if tr.Name() == "HighErrorRate" && got[tr.State].IsZero() {
				got[tr.State], seenAt[tr.State] = tr.At, time.Now()
			}
		}
	}
	return got, seenAt
}

// checkTransitions: every state was reached, in order, after the rule's
// for: window, when Prometheus's own ALERTS says, and seen by the watcher
// soon after.
func checkTransitions(t *testing.T, api v1.API, since, stepped time.Time, got, seenAt map[string]time.Time) {
	t.Helper()
	for _, s := range []string{alerts.Pending, alerts.Firing, alerts.Received, alerts.Notified} {
		if got[s].IsZero() {
			t.Fatalf("no %s transition; saw %v", s, got)
		}
	}
	if !got[alerts.Pending].Before(got[alerts.Firing]) || got[alerts.Firing].Sub(got[alerts.Pending]) < 2*time.Second {
		t.Errorf("pending %s, firing %s: want firing at least for: 2s after pending", got[alerts.Pending], got[alerts.Firing])
	}
	if got[alerts.Notified].Before(got[alerts.Firing]) {
		t.Errorf("notified %s before firing %s", got[alerts.Notified], got[alerts.Firing])
	}
	// Prometheus's own record, asked the way a dashboard asks: the first
	// step of each state in a query_range at the evaluation interval.
	r := v1.Range{Start: since.Truncate(time.Second), End: time.Now(), Step: time.Second}
	starts := alertstest.AlertStarts(t, api, "HighErrorRate", r)
	for _, s := range []string{alerts.Pending, alerts.Firing} {
		first := starts[s]
		if d := first.Sub(got[s]); d < 0 || d > time.Second {
			t.Errorf("%s at %s; Prometheus's ALERTS first shows it at the step %s: want within one evaluation (1s)", s, got[s], first)
		}
		// And the watcher saw it within a poll (500ms) and a query of it.
		if lag := seenAt[s].Sub(got[s]); lag > 3*time.Second {
			t.Errorf("%s seen %s after Prometheus set it", s, lag)
		}
	}
	t.Logf("time to pending %s, to fire %s, to page %s (from the step)", got[alerts.Pending].Sub(stepped).Round(time.Millisecond), got[alerts.Firing].Sub(stepped).Round(time.Millisecond), got[alerts.Notified].Sub(stepped).Round(time.Millisecond))
}

// Package alertstest starts a system's alerting path, real from end to
// end, for the tests of code that watches it. Only tests import it.
//
// It is not in lab/e2e: package metrics' own tests use lab/e2e, and this
// imports metrics/alerts, which imports metrics.
package alertstest

import (
	"fmt"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/metrics/alerts"
)

// Alerting is a system's whole alerting path, real from end to end:
// Prometheus evaluating e2e.ErrorRatioRules over a gauge this process serves,
// Alertmanager routing its alerts, and gameday's own webhook receiving the
// pages.
type Alerting struct {
	Hook         *alerts.Webhook
	Alertmanager string // base URL
	Prometheus   string // base URL
	API          v1.API
}

// StartAlerting starts the alerting path with gauge as app_error_ratio;
// all of it stops when the test ends.
func StartAlerting(t testing.TB, gauge func() float64) *Alerting {
	t.Helper()
	hook, err := alerts.Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hook.Close() })
	am := e2e.StartAlertmanager(t, hook.URL())
	prom := e2e.StartPrometheusAlerting(t, e2e.ServeGauge(t, gauge), e2e.ErrorRatioRules, am)
	return &Alerting{Hook: hook, Alertmanager: am, Prometheus: prom, API: e2e.PrometheusAPI(t, prom)}
}

// Watcher watches this path the way a run does.
func (a *Alerting) Watcher() *alerts.Watcher {
	return &alerts.Watcher{Prom: a.API, PromURL: a.Prometheus, Alertmanager: &alerts.Alertmanager{URL: a.Alertmanager}, Webhook: a.Hook}
}

// AlertStarts is Prometheus's own record of when alert name went pending
// and firing, asked the way a dashboard asks: the first step of each state
// in a query_range of ALERTS over r. A state Prometheus never showed fails
// the test.
func AlertStarts(t testing.TB, api v1.API, name string, r v1.Range) map[string]time.Time {
	t.Helper()
	first := map[string]time.Time{}
	for _, st := range []string{alerts.Pending, alerts.Firing} {
		m := e2e.QueryRange(t, api, fmt.Sprintf(`ALERTS{alertname=%q,alertstate=%q}`, name, st), r)
		if len(m) != 1 || len(m[0].Values) == 0 {
			t.Fatalf("ALERTS %s: %v", st, m)
		}
		first[st] = m[0].Values[0].Timestamp.Time()
	}
	return first
}

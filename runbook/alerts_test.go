package runbook_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

const alertsSection = `alerts:
  alertmanager: http://127.0.0.1:9093
  expect:
    - name: HighLatency
      labels: {job: checkout}
      attack: add latency
      fires_within: 2m
      notified_within: 3m
      resolves_within: 5m
  forbid:
    - labels: {severity: page}
    - name: InstanceDown
`

func withAlerts(t *testing.T, old, new string) []byte {
	t.Helper()
	base, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if old != "" && !strings.Contains(alertsSection, old) {
		t.Fatalf("alerts section has no %q", old)
	}
	return append(base, strings.Replace(alertsSection, old, new, 1)...)
}

func TestAlertsSection(t *testing.T) {
	rb, err := runbook.Parse("a.yaml", withAlerts(t, "", ""), targets.Default())
	if err != nil {
		t.Fatal(err)
	}
	a := rb.Alerts
	if a.Alertmanager != "http://127.0.0.1:9093" || len(a.Expect) != 1 || len(a.Forbid) != 2 {
		t.Fatalf("alerts = %+v", a)
	}
	e := a.Expect[0]
	if e.Name != "HighLatency" || e.Attack != "add latency" || e.FiresWithin != 2*time.Minute || e.NotifiedWithin != 3*time.Minute || e.ResolvesWithin != 5*time.Minute {
		t.Errorf("expect[0] = %+v", e)
	}
	if e.Pos.Line != 47 || e.Pos.Col != 7 {
		t.Errorf("expect[0] at %d:%d, want 47:7", e.Pos.Line, e.Pos.Col)
	}
	if got := e.Describe(); got != `HighLatency{job="checkout"}` {
		t.Errorf("Describe = %s", got)
	}
	if !e.Matches(map[string]string{"alertname": "HighLatency", "job": "checkout", "severity": "page"}) || e.Matches(map[string]string{"alertname": "HighLatency", "job": "cart"}) {
		t.Error("expected alert matches the wrong labels")
	}
	if !a.Forbid[0].Matches(map[string]string{"alertname": "Anything", "severity": "page"}) || a.Forbid[0].Matches(map[string]string{"alertname": "Anything"}) {
		t.Error("forbid by label matches the wrong alerts")
	}
}

func TestAlertsSectionErrors(t *testing.T) {
	for _, tc := range []struct{ old, new, want string }{
		{"name: HighLatency", "name: High-Latency", `a.yaml:47:13: alerts.expect[0].name: expected an alert name such as HighErrorRate (letters, digits, _ and :), found "High-Latency"`},
		{"attack: add latency", "attack: add errors", `a.yaml:49:15: alerts.expect[0].attack: no attack is named "add errors"`},
		{"fires_within: 2m", "fires_within: 2", `a.yaml:50:21: alerts.expect[0].fires_within: expected a duration such as 30s, 5m or 1h30m, found "2" (a unit is required: ms, s, m or h)`},
		{"fires_within: 2m", "fire_within: 2m", `a.yaml:50:7: alerts.expect[0]: unknown field "fire_within" (did you mean "fires_within"?)`},
		{"notified_within: 3m", "notified_within: 1m", `a.yaml:47:7: alerts.expect[0]: notified_within (1m) is shorter than fires_within (2m)`},
		{"    - name: InstanceDown", "    - {}", `a.yaml:55:7: alerts.forbid[1]: give a name, labels or both`},
		{"{severity: page}", "{alertname: X}", `a.yaml:54:15: alerts.forbid[0].labels: "alertname" is not a label to match on`},
		{"alertmanager: http://127.0.0.1:9093", "alertmanager: 127.0.0.1:9093", `a.yaml:45:17: alerts.alertmanager: expected an http:// or https:// URL with a host`},
	} {
		_, err := runbook.Parse("a.yaml", withAlerts(t, tc.old, tc.new), targets.Default())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s → %s:\n got %v\nwant %s", tc.old, tc.new, err, tc.want)
		}
	}
}

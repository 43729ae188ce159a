package gamedays

import (
	"testing"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// A miss names when the panel the rule watches crossed the rule's
// threshold, so the team sees the gap between cause and alert.
func TestMonitoringGapWords(t *testing.T) {
	from := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	x := runbook.ExpectedAlert{Name: "HighErrorRate", FiresWithin: 2 * time.Minute}
	base := AlertResult{From: from, Watched: "the error rate", Past: "above its threshold (0.05)"}
	for _, c := range []struct {
		name string
		r    func(AlertResult) AlertResult
		want string
	}{
		{"crossed, never fired", func(r AlertResult) AlertResult { r.Crossed = from.Add(35 * time.Second); return r },
			"monitoring gap: HighErrorRate did not fire within 2m; the error rate was above its threshold (0.05) from T+0:35"},
		{"fired late", func(r AlertResult) AlertResult {
			r.Crossed, r.Firing = from.Add(95*time.Second), from.Add(150*time.Second)
			return r
		}, "monitoring gap: HighErrorRate did not fire within 2m; it fired after 2m30s; the error rate was above its threshold (0.05) from T+1:35"},
		{"never crossed", func(r AlertResult) AlertResult { return r },
			"monitoring gap: HighErrorRate did not fire within 2m; the error rate was never above its threshold (0.05)"},
		{"no panel is the rule's", func(r AlertResult) AlertResult { r.Watched = ""; return r },
			"monitoring gap: HighErrorRate did not fire within 2m"},
	} {
		held, text := judgeExpected(x, c.r(base))
		if held || text != c.want {
			t.Errorf("%s: held %v\n got %s\nwant %s", c.name, held, text, c.want)
		}
	}
}

func TestAlertStatus(t *testing.T) {
	from := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return from.Add(d) }
	base := AlertResult{From: from, FiresWithin: time.Minute}
	for _, c := range []struct {
		r    AlertResult
		now  time.Duration
		want string
	}{
		{AlertResult{FiresWithin: time.Minute}, 0, "not injected"},
		{base, 10 * time.Second, "waiting"},
		{AlertResult{From: from, FiresWithin: time.Minute, Pending: at(5 * time.Second)}, 10 * time.Second, "pending"},
		{base, 61 * time.Second, "MISSED"},
		{AlertResult{From: from, FiresWithin: time.Minute, Firing: at(20 * time.Second)}, 30 * time.Second, "firing"},
		{AlertResult{From: from, FiresWithin: time.Minute, Firing: at(20 * time.Second), Notified: at(25 * time.Second)}, 30 * time.Second, "paged"},
		{AlertResult{From: from, FiresWithin: time.Minute, Firing: at(20 * time.Second), Resolved: at(90 * time.Second)}, 95 * time.Second, "resolved"},
		{AlertResult{From: from, FiresWithin: time.Minute, Firing: at(70 * time.Second)}, 95 * time.Second, "late"},
		{AlertResult{Forbid: true, From: from}, 95 * time.Second, "quiet"},
		{AlertResult{Forbid: true, From: from, Firing: at(3 * time.Second)}, 95 * time.Second, "FIRED"},
	} {
		if got := c.r.Status(at(c.now)); got != c.want {
			t.Errorf("%+v at +%s: %s, want %s", c.r, c.now, got, c.want)
		}
	}
}

// Other alerts are those that fired from the inject on that the runbook
// neither expects nor forbids, each once.
func TestOtherAlerts(t *testing.T) {
	rb, err := runbook.Parse("rb.yaml", []byte(`version: 1
name: x
metrics:
  panels:
    e: {query: up, unit: ratio}
baseline: {duration: 5s}
hypothesis: {statement: s, expect: {e: "< 1"}}
targets:
  web: {ssh: {hosts: [h]}}
blast_radius:
  web: {all: true}
attacks:
  - {name: a, target: web, kind: cpu, duration: 5s}
alerts:
  expect:
    - {name: HighErrorRate, fires_within: 1m}
  forbid:
    - labels: {severity: page}
`), targets.Default())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	s := NewState(rb)
	inj := targets.Injection{Attack: "a", Member: targets.Member{Target: "web", ID: "h"}}
	s.Apply(Event{Type: EvAttackIntent, Time: t0, Injection: &inj})
	for _, m := range []AlertMark{
		{Name: "Old", State: "firing", At: t0.Add(-time.Minute)},
		{Name: "HighErrorRate", State: "firing", At: t0.Add(5 * time.Second)},
		{Name: "Disk", Labels: map[string]string{"severity": "page"}, State: "firing", At: t0.Add(6 * time.Second)},
		{Name: "SlowQueries", Labels: map[string]string{"db": "a"}, State: "pending", At: t0.Add(6 * time.Second)},
		{Name: "SlowQueries", Labels: map[string]string{"db": "a"}, State: "firing", At: t0.Add(7 * time.Second)},
		{Name: "SlowQueries", Labels: map[string]string{"db": "a"}, State: "firing", At: t0.Add(9 * time.Second)},
	} {
		s.Apply(Event{Type: EvAlert, Time: m.At, Alert: &m})
	}
	got := s.OtherAlerts()
	if len(got) != 1 || got[0].Name != "SlowQueries" || !got[0].At.Equal(t0.Add(7*time.Second)) {
		t.Errorf("got %+v", got)
	}
}

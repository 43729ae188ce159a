package ui

import (
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// alertsRunbook is the test runbook with an alerts section.
const alertsRunbook = testRunbook + `alerts:
  expect:
    - {name: HighLatency, labels: {severity: page}, fires_within: 1m, notified_within: 90s, resolves_within: 30s}
  forbid:
    - {name: InstanceDown}
`

// alertsAt is what the engine publishes of the alerts at a stage of the
// scripted game day: the transitions it journalled, and its judgement so
// far (live, in run and observe) or at conclude.
func alertsAt(to stage) (marks []gamedays.Event, results []gamedays.AlertResult) {
	inject, rollback := t0.Add(45*time.Second), t0.Add(75*time.Second)
	mark := func(name, state string, at time.Duration, labels map[string]string) {
		m := gamedays.AlertMark{Name: name, Labels: labels, State: state, At: t0.Add(at)}
		marks = append(marks, gamedays.Event{Type: gamedays.EvAlert, Time: t0.Add(at), Alert: &m})
	}
	page := map[string]string{"severity": "page"}
	expect := gamedays.AlertResult{Alert: `HighLatency{severity="page"}`, From: inject, FiresWithin: time.Minute, NotifiedWithin: 90 * time.Second, ResolvesWithin: 30 * time.Second}
	forbid := gamedays.AlertResult{Alert: "InstanceDown", Forbid: true, From: inject, Held: true}
	mark("HighLatency", "pending", 47*time.Second, page)
	expect.Pending = t0.Add(47 * time.Second)
	if to >= stObserve {
		mark("HighLatency", "firing", 52*time.Second, page)
		mark("HighLatency", "notified", 54*time.Second, page)
		mark("SlowCheckout", "firing", 56*time.Second, map[string]string{"severity": "ticket"})
		expect.Firing, expect.Notified = t0.Add(52*time.Second), t0.Add(54*time.Second)
	}
	if to >= stConclude {
		mark("HighLatency", "resolved", 78*time.Second, page)
		expect.Resolved, expect.RolledBack = t0.Add(78*time.Second), rollback
		expect.Held, expect.Text = true, `HighLatency{severity="page"} fired 7s after the inject (limit 1m)`
	}
	return marks, []gamedays.AlertResult{expect, forbid}
}

// TestGoldenAlerts renders the alerts strip in run, observe and conclude:
// each expected and forbidden alert, its state and times since the inject,
// and the other alert that fired. Refresh with -update.
func TestGoldenAlerts(t *testing.T) {
	for _, tc := range []goldenStage{
		{"run", stRun, "Δ"},
		{"observe", stObserve, "Δ"},
		{"conclude", stConclude, "Action items"},
	} {
		atSizes(t, tc.name, [][2]int{{80, 24}, {200, 50}}, func(t *testing.T, sz [2]int) {
			rb, err := runbook.Parse("checkout.yaml", []byte(alertsRunbook), targets.Default())
			if err != nil {
				t.Fatal(err)
			}
			evs, now := scriptAt(tc.stage)
			marks, results := alertsAt(tc.stage)
			obs := newStaticObserver(rb, instances, int(now.Sub(t0)/time.Second)+1, now, tc.stage == stObserve)
			c := New(Config{Runbook: rb, File: "checkout.yaml", RunDir: "/var/lib/gameday/r1", Metrics: obs, Version: "test"})
			c.clock = func() time.Time { return now }
			t.Cleanup(c.close)
			for _, ev := range append(evs, marks...) {
				c.OnEvent(ev)
			}
			live := liveAfter(rb, obs, evs, now)
			if tc.stage == stConclude {
				c.OnEvent(gamedays.Event{Type: gamedays.EvAlerts, Time: now, Alerts: results})
			} else {
				live.Live.Alerts = results
			}
			c.OnEvent(live)
			requireGoldenView(t, c, sz, tc.wait, nil, "")
		})
	}
}

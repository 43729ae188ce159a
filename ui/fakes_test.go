package ui

import (
	"context"
	"math"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// testRunbook has two panels split per instance, so charts carry several
// series, and an attack that starts a little after the run does.
const testRunbook = `version: 1
name: checkout survives a slow instance
metrics:
  step: 1s
  panels:
    p95: {query: latency, unit: seconds, by: instance}
    error_rate: {query: errors, unit: ratio, by: instance}
baseline:
  duration: 20s
  steady_state: {p95: "< 300ms", error_rate: "< 1%"}
hypothesis:
  statement: Latency on one of three instances keeps P95 under twice the baseline.
  expect: {p95: "< baseline * 2", error_rate: "< 2%"}
guardrails:
  p95: "> 2s for 5s"
  metrics_blind: 10s
targets:
  web: {ssh: {hosts: [web-1, web-2, web-3]}}
blast_radius:
  web: {count: 1, seed: 3}
attacks:
  - {name: slow, target: web, kind: network-latency, params: {interface: eth0, delay: 200ms}, start_after: 5s, duration: 30s}
observe: {duration: 40s}
`

func parseRunbook(t testing.TB) *runbook.Runbook {
	t.Helper()
	rb, err := runbook.Parse("checkout.yaml", []byte(testRunbook), targets.Default())
	if err != nil {
		t.Fatal(err)
	}
	return rb
}

// fakeSender records intents, standing in for the engine.
type fakeSender struct {
	mu   sync.Mutex
	sent []gamedays.Intent
}

func (f *fakeSender) Send(a gamedays.Actor, i gamedays.Intent) error {
	if err := gamedays.Permit(a, i); err != nil {
		return err
	}
	f.mu.Lock()
	f.sent = append(f.sent, i)
	f.mu.Unlock()
	return nil
}

func (f *fakeSender) intents() []gamedays.Intent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]gamedays.Intent(nil), f.sent...)
}

// staticObserver serves fixed series for golden views and benchmarks: no
// poller, no clock, the same answer every time.
type staticObserver struct {
	step   time.Duration
	series map[string][]string
	points map[string][]metrics.Point // panel/series
	health []metrics.Health
}

func (o *staticObserver) Step() time.Duration          { return o.step }
func (o *staticObserver) Series(panel string) []string { return o.series[panel] }

// Points returns a window of the stored slice without copying, so that
// benchmarks measure the console rather than this fake.
func (o *staticObserver) Points(panel, series string, from, to time.Time) []metrics.Point {
	pts := o.points[panel+"/"+series]
	i := sort.Search(len(pts), func(i int) bool { return !pts[i].T.Before(from) })
	j := sort.Search(len(pts), func(i int) bool { return pts[i].T.After(to) })
	return pts[i:max(i, j)]
}
func (o *staticObserver) End(panel, series string) time.Time {
	pts := o.points[panel+"/"+series]
	if len(pts) == 0 {
		return time.Time{}
	}
	return pts[len(pts)-1].T
}
func (o *staticObserver) Poll(ctx context.Context) error { return nil }
func (o *staticObserver) Health() []metrics.Health       { return o.health }

// newStaticObserver fills every panel of rb with n points per instance
// ending at end: a steady baseline with a bump where the attack ran and a
// gap in the middle of it, so charts show all their marks.
func newStaticObserver(rb *runbook.Runbook, instances []string, n int, end time.Time, gap bool) *staticObserver {
	o := &staticObserver{step: time.Second, series: map[string][]string{}, points: map[string][]metrics.Point{}}
	start := end.Add(-time.Duration(n-1) * time.Second)
	for _, p := range rb.Metrics.Panels {
		o.series[p.Name] = instances
		for k, inst := range instances {
			pts := make([]metrics.Point, n)
			for i := range pts {
				v := 0.1 + 0.01*float64(k) + 0.01*math.Sin(float64(i)/7)
				if p.Unit == runbook.UnitRatio {
					v = 0.002 + 0.001*float64(k)
				}
				if i > n*6/10 && i < n*8/10 && k == 1 {
					v *= 1.8
				}
				pts[i] = metrics.Point{T: start.Add(time.Duration(i) * time.Second), V: v}
				if gap && i > n*7/10 && i < n*7/10+n/20 {
					pts[i] = metrics.Point{T: pts[i].T, Missing: true}
				}
			}
			o.points[p.Name+"/"+inst] = pts
		}
		o.health = append(o.health, metrics.Health{Panel: p.Name, Started: start, LastAnswer: end, LastData: end, Series: len(instances)})
	}
	return o
}

// judged is the engine's live judgement (gamedays.Judge) of obs for the
// state's phase, as the engine publishes it after a poll.
func judged(rb *runbook.Runbook, obs gamedays.Observer, s *runState, now time.Time) gamedays.Event {
	mo := gamedays.Moment{Phase: s.Phase, BaseFrom: s.PhaseAt[gamedays.PhaseBaseline], Start: s.PhaseAt[gamedays.PhaseRun], Now: now}
	if to := s.PhaseAt[gamedays.PhaseHypothesis]; !to.IsZero() {
		var names []string
		for _, p := range rb.Metrics.Panels {
			names = append(names, p.Name)
		}
		mo.Baseline = metrics.TakeBaseline(obs, names, mo.BaseFrom, to)
	}
	return gamedays.Event{Type: gamedays.EvLive, Time: now, Phase: s.Phase.String(), Live: gamedays.Judge(rb, obs, obs.Health(), mo)}
}

// liveAfter is the engine's judgement once evs have happened.
func liveAfter(rb *runbook.Runbook, obs gamedays.Observer, evs []gamedays.Event, now time.Time) gamedays.Event {
	s := newRunState(rb)
	for _, ev := range evs {
		s.apply(ev)
	}
	return judged(rb, obs, s, now)
}

// permitSender hands on what the engine's policy allows, as the engine
// would, to a func.
type permitSender func(gamedays.Intent)

func (f permitSender) Send(a gamedays.Actor, i gamedays.Intent) error {
	if err := gamedays.Permit(a, i); err != nil {
		return err
	}
	f(i)
	return nil
}

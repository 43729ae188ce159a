// Package exporter serves a game day's own state as Prometheus metrics
// (--metrics-listen), so the team's dashboards can show when faults were
// active, which phase the game day is in, how its guardrails stand and how
// it ended. It reads the engine's events through gamedays.State, the same
// fold the console and the report read, and judges nothing itself.
package exporter

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gameday/gameday/gamedays"
)

var (
	injectionDesc = prometheus.NewDesc("gameday_injection_active",
		"1 while an injection may be in effect: from its attack intent until its rollback is confirmed.",
		[]string{"run", "attack", "target", "member", "kind"}, nil)
	phaseDesc = prometheus.NewDesc("gameday_phase",
		"1 for the phase the game day is in.",
		[]string{"run", "phase"}, nil)
	guardDesc = prometheus.NewDesc("gameday_guardrail",
		"1 for each guardrail's state: ok, pending (breaching, not yet for long enough) or breached.",
		[]string{"run", "panel", "threshold", "state"}, nil)
	verdictDesc = prometheus.NewDesc("gameday_verdict",
		"1 for the verdict once the game day has one: held, refuted, aborted or blocked.",
		[]string{"run", "verdict"}, nil)
	startDesc = prometheus.NewDesc("gameday_run_start_timestamp_seconds",
		"When the game day started, in Unix seconds.",
		[]string{"run", "runbook"}, nil)
)

// Exporter folds the engine's events and collects them as metrics.
type Exporter struct {
	mu sync.Mutex
	s  *gamedays.State
}

// New returns an exporter with nothing folded yet.
func New() *Exporter { return &Exporter{s: gamedays.NewState(nil)} }

// OnEvent folds one engine event; it is cheap and never blocks on I/O, as
// the engine's OnEvent requires.
func (x *Exporter) OnEvent(ev gamedays.Event) {
	x.mu.Lock()
	x.s.Apply(ev)
	x.mu.Unlock()
}

// Describe sends the descriptions of every metric.
func (x *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{injectionDesc, phaseDesc, guardDesc, verdictDesc, startDesc} {
		ch <- d
	}
}

// Collect sends the metrics as the state stands now.
func (x *Exporter) Collect(ch chan<- prometheus.Metric) {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.s
	if s.RunID == "" {
		return
	}
	run := s.RunID
	// A stage re-injecting a member is a new injection with the same
	// labels: one series says it is active.
	sent := map[string]bool{}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		key := d.String() + strings.Join(labels, "\x00")
		if sent[key] {
			return
		}
		sent[key] = true
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(startDesc, float64(s.Start.UnixMilli())/1000, run, s.Title)
	gauge(phaseDesc, 1, run, s.Phase.String())
	for _, in := range s.Active() {
		inj := in.Injection
		gauge(injectionDesc, 1, run, inj.Attack, inj.Member.Target, inj.Member.ID, inj.Kind)
	}
	if s.Live != nil {
		for _, g := range s.Live.Guards {
			state := "ok"
			switch {
			case g.Fired:
				state = "breached"
			case g.Pending:
				state = "pending"
			}
			gauge(guardDesc, 1, run, g.Panel, g.Threshold, state)
		}
	}
	if s.VerdictSet || s.Ended {
		gauge(verdictDesc, 1, run, string(s.Verdict))
	}
}

package gamedays

import (
	"context"
	"time"

	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/runbook"
)

// EvLive carries the engine's judgement of the metrics after a poll. It is
// published to subscribers and never journalled: the journal keeps the
// decisions (steady state, expectations, breaches), the console shows how
// they stand meanwhile, and both come from the one evaluator.
const EvLive = "live"

// Live is how the checks stand at one moment, as the engine judges them.
type Live struct {
	// Steady is the steady state over the baseline so far (baseline phase).
	Steady []CheckResult `json:"steady,omitempty"`
	// Expect is the hypothesis over the attack window so far (run, observe).
	Expect []CheckResult `json:"expect,omitempty"`
	Guards []GuardStatus `json:"guards,omitempty"`
	// Quiet is the early warning that the charts have gone quiet, long
	// before metrics_blind would abort; "" while data flows.
	Quiet string `json:"quiet,omitempty"`
	// Base is each series' baseline median, per panel (so far, during the
	// baseline), for the charts' baseline band.
	Base map[string]map[string]Num `json:"base,omitempty"`
	// Alerts is the runbook's alerts section judged on what has been seen
	// so far (run, observe); the judgement at conclude is EvAlerts.
	Alerts []AlertResult `json:"alerts,omitempty"`
}

// GuardStatus is one guardrail at one moment.
type GuardStatus struct {
	Panel     string        `json:"panel"`
	Threshold string        `json:"threshold"`
	Fired     bool          `json:"fired,omitempty"`
	Pending   bool          `json:"pending,omitempty"` // breaching, not yet for long enough
	Breached  time.Duration `json:"breached,omitempty"`
	Text      string        `json:"text,omitempty"`
}

// QuietAfter is when the console's banner says the charts went quiet: two
// polls, and never under 10s, beyond the data's normal lag.
func QuietAfter(rb *runbook.Runbook) time.Duration {
	return max(2*rb.Metrics.Poll, 10*time.Second)
}

// Moment is what a live judgement is made from.
type Moment struct {
	Phase Phase
	// BaseFrom opened the baseline window; Start is the run's T+0 (zero
	// before the run). Baseline is the measured one once the baseline
	// ended; during it the window so far is used.
	BaseFrom, Start time.Time
	Baseline        metrics.Baseline
	Now             time.Time
}

// Judge is the engine's live judgement of the checks the phase cares about.
// It is the one rule for steady state, expectations, guardrails and quiet
// charts while a game day runs: the engine publishes it, the console only
// renders it.
func Judge(rb *runbook.Runbook, src metrics.Source, health []metrics.Health, m Moment) *Live {
	live := &Live{}
	if b := metrics.Blind(health, QuietAfter(rb), m.Now); b.Fired {
		live.Quiet = b.Reason
	}
	eval := metrics.NewEvaluator(src, rb.Metrics.Panels)
	eval.Baseline = m.Baseline
	if m.Phase == PhaseBaseline && !m.BaseFrom.IsZero() {
		eval.Baseline = metrics.TakeBaseline(src, panelNames(rb), m.BaseFrom, m.Now)
		for _, c := range rb.Baseline.SteadyState {
			live.Steady = append(live.Steady, checkResult("steady_state", eval.Check(c, m.BaseFrom, m.Now)))
		}
	}
	if (m.Phase == PhaseRun || m.Phase == PhaseObserve) && !m.Start.IsZero() {
		for _, c := range rb.Hypothesis.Expect {
			live.Expect = append(live.Expect, checkResult("expect", eval.Check(c, m.Start, m.Now)))
		}
		for _, c := range rb.Guardrails.Checks {
			g := eval.Guardrail(c)
			live.Guards = append(live.Guards, GuardStatus{Panel: c.Panel, Threshold: c.Threshold.Text,
				Fired: g.Fired, Pending: g.Pending, Breached: g.Breached, Text: g.Evidence.Text})
		}
	}
	if len(eval.Baseline.Series) > 0 {
		live.Base = map[string]map[string]Num{}
		for panel, series := range eval.Baseline.Series {
			med := map[string]Num{}
			for s, st := range series {
				if !st.Empty() {
					med[s] = Num(st.Median)
				}
			}
			live.Base[panel] = med
		}
	}
	return live
}

// publishLive judges the checks the phase cares about and publishes them.
func (e *Engine) publishLive() {
	if e.eval == nil || e.opts.OnEvent == nil {
		return
	}
	e.mu.Lock()
	m := Moment{Phase: e.phase, BaseFrom: e.baseFrom, Start: e.start, Baseline: e.eval.Baseline, Now: e.opts.Clock.Now()}
	e.mu.Unlock()
	live := Judge(e.rb, e.opts.Metrics, e.opts.Metrics.Health(), m)
	if e.opts.Alerts != nil && (m.Phase == PhaseRun || m.Phase == PhaseObserve) {
		live.Alerts = e.alertResults()
	}
	e.opts.OnEvent(Event{Type: EvLive, Time: m.Now.UTC(), Phase: m.Phase.String(), Live: live})
}

// pollWhile keeps the metrics polled and judged while the engine is busy
// elsewhere (resolving and preflighting the blast radius), so a slow
// preflight is never shown as quiet charts. The returned func stops it.
func (e *Engine) pollWhile(ctx context.Context) func() {
	if e.opts.Metrics == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-e.opts.Clock.After(e.rb.Metrics.Poll):
			}
			e.pollMetrics(ctx)
			e.flushSamples(false)
		}
	}()
	return func() { cancel(); <-done }
}

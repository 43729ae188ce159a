package ui

import (
	"math"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/targets"
)

// t0 is when the scripted game days start.
var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

var instances = []string{"web-1", "web-2", "web-3"}

// stage is how far a scripted game day has got.
type stage int

const (
	stBaseline stage = iota
	stBlocked
	stHypothesis
	stBlast
	stPreflightFailed
	stRun
	stObserve
	stAborted
	stConclude
	stEnded
)

// script is a scripted game day's events, numbered and timed as the
// engine publishes them.
type script []gamedays.Event

// at adds ev as published d after t0.
func (s *script) at(d time.Duration, ev gamedays.Event) {
	ev.Time = t0.Add(d)
	ev.Seq = int64(len(*s) + 1)
	*s = append(*s, ev)
}

// scriptAt is a scripted game day up to a stage, as the engine would have
// published it, and the clock reading for that moment.
func scriptAt(to stage) ([]gamedays.Event, time.Time) {
	var evs script
	at := evs.at
	web2 := targets.Member{Target: "web", ID: "web-2", Addr: "web-2:22"}
	inj := &targets.Injection{RunID: "r1", Attack: "slow", Kind: "network-latency", Member: web2, Duration: 30 * time.Second}
	at(0, gamedays.Event{Type: gamedays.EvRunStart, RunID: "r1", Msg: "checkout survives a slow instance"})
	at(0, gamedays.Event{Type: gamedays.EvPhase, Phase: "baseline"})
	if to == stBaseline {
		return evs, t0.Add(12 * time.Second)
	}
	at(20*time.Second, gamedays.Event{Type: gamedays.EvBaseline, Stats: map[string]gamedays.Stats{
		"p95":        {Min: 0.1, Median: 0.11, P95: 0.12, Max: 0.125, Mean: 0.11, Last: 0.11, Count: 60},
		"error_rate": {Min: 0.002, Median: 0.003, P95: 0.004, Max: 0.004, Mean: 0.003, Last: 0.003, Count: 60},
	}})
	if to == stBlocked {
		at(20*time.Second, gamedays.Event{Type: gamedays.EvSteadyState, OK: no(), Checks: []gamedays.CheckResult{
			{Section: "steady_state", Panel: "p95", Threshold: "< 300ms", Limit: 0.3, Value: 0.41, Held: false, Text: "p95[web-2] broken: 410ms (95th percentile of 20 samples), against < 300ms, 09:00:00–09:00:20"},
			{Section: "steady_state", Panel: "error_rate", Threshold: "< 1%", Limit: 0.01, Value: 0.004, Held: true, Text: "error_rate[web-1] held: 0.4% (95th percentile of 20 samples), against < 1%, 09:00:00–09:00:20"},
		}})
		at(20*time.Second, gamedays.Event{Type: gamedays.EvVerdict, Verdict: "blocked", Msg: "steady state does not hold: p95[web-2] broken: 410ms (95th percentile of 20 samples), against < 300ms"})
		at(20*time.Second, gamedays.Event{Type: gamedays.EvRunEnd, Verdict: "blocked"})
		return evs, t0.Add(21 * time.Second)
	}
	at(20*time.Second, gamedays.Event{Type: gamedays.EvSteadyState, OK: yes(), Checks: []gamedays.CheckResult{
		{Section: "steady_state", Panel: "p95", Threshold: "< 300ms", Limit: 0.3, Value: 0.12, Held: true, Text: "p95[web-2] held: 120ms (95th percentile of 20 samples), against < 300ms, 09:00:00–09:00:20"},
	}})
	at(20*time.Second, gamedays.Event{Type: gamedays.EvPhase, Phase: "hypothesis"})
	at(20*time.Second, gamedays.Event{Type: gamedays.EvHypothesis, Msg: "Latency on one of three instances keeps P95 under twice the baseline.", Checks: []gamedays.CheckResult{
		{Section: "expect", Panel: "p95", Threshold: "< baseline * 2", Limit: 0.22, Baseline: 0.11, Value: gamedays.Num(math.NaN()), Text: "p95 < 220ms (baseline 110ms × 2)"},
		{Section: "expect", Panel: "error_rate", Threshold: "< 2%", Limit: 0.02, Baseline: gamedays.Num(math.NaN()), Value: gamedays.Num(math.NaN()), Text: "error_rate < 2%"},
	}})
	at(25*time.Second, gamedays.Event{Type: gamedays.EvNote, Kind: "prediction", Author: "ana", Msg: "web-2 p95 rises to 350ms, the others stay flat"})
	if to == stHypothesis {
		return evs, t0.Add(30 * time.Second)
	}
	at(31*time.Second, gamedays.Event{Type: gamedays.EvPhase, Phase: "blast radius"})
	at(31*time.Second, gamedays.Event{Type: gamedays.EvResolved, Target: "web", Members: []targets.Member{
		{Target: "web", ID: "web-1", Addr: "web-1:22"}, web2, {Target: "web", ID: "web-3", Addr: "web-3:22"}}})
	seed := int64(3)
	at(31*time.Second, gamedays.Event{Type: gamedays.EvSelected, Target: "web", Members: []targets.Member{web2}, Seed: &seed})
	if to == stPreflightFailed {
		at(32*time.Second, gamedays.Event{Type: gamedays.EvPreflight, Injection: inj, OK: no(), Msg: "sudo: a password is required"})
		at(32*time.Second, gamedays.Event{Type: gamedays.EvVerdict, Verdict: "aborted", Msg: "preflight failed on 1 of 1: slow on web-2: sudo: a password is required"})
		at(32*time.Second, gamedays.Event{Type: gamedays.EvRunEnd, Verdict: "aborted"})
		return evs, t0.Add(33 * time.Second)
	}
	at(32*time.Second, gamedays.Event{Type: gamedays.EvPreflight, Injection: inj, OK: yes()})
	if to == stBlast {
		return evs, t0.Add(33 * time.Second)
	}
	at(40*time.Second, gamedays.Event{Type: gamedays.EvConfirmed, Members: []targets.Member{web2}, Msg: "1 injection(s) confirmed"})
	at(40*time.Second, gamedays.Event{Type: gamedays.EvPhase, Phase: "run"})
	at(45*time.Second, gamedays.Event{Type: gamedays.EvAttackIntent, Injection: inj})
	at(45*time.Second, gamedays.Event{Type: gamedays.EvAttackResult, Injection: inj, OK: yes(), Result: &targets.Result{Output: "tc qdisc add dev eth0 root netem delay 200ms\nqdisc applied"}})
	if to == stRun {
		return evs, t0.Add(50 * time.Second)
	}
	at(45*time.Second, gamedays.Event{Type: gamedays.EvPhase, Phase: "observe"})
	at(55*time.Second, gamedays.Event{Type: gamedays.EvNote, Kind: "finding", Author: "ana", Msg: "retries hide the slow instance from the error rate"})
	if to == stObserve {
		return evs, t0.Add(60 * time.Second)
	}
	if to == stAborted {
		at(61*time.Second, gamedays.Event{Type: gamedays.EvAbort, Source: "key", Author: "ana", Msg: "the abort key was pressed by ana; rolling back 1 injection(s)"})
		at(61*time.Second, gamedays.Event{Type: gamedays.EvPhase, Phase: "aborted"})
		at(61*time.Second, gamedays.Event{Type: gamedays.EvRollbackIntent, Injection: inj, Msg: "abort"})
		at(62*time.Second, gamedays.Event{Type: gamedays.EvRollbackResult, Injection: inj, OK: no(), Result: &targets.Result{Err: "ssh: connect to web-2:22: connection refused"}})
		at(62*time.Second, gamedays.Event{Type: gamedays.EvVerdict, Verdict: "aborted", Msg: "key; ROLLBACK INCOMPLETE on 1: slow on web-2; run gameday recover", Failed: []targets.Injection{*inj}})
		at(62*time.Second, gamedays.Event{Type: gamedays.EvRunEnd, Verdict: "aborted", Failed: []targets.Injection{*inj}})
		return evs, t0.Add(63 * time.Second)
	}
	at(75*time.Second, gamedays.Event{Type: gamedays.EvRollbackIntent, Injection: inj, Msg: "duration over"})
	at(75*time.Second, gamedays.Event{Type: gamedays.EvRollbackResult, Injection: inj, OK: yes(), Result: &targets.Result{Output: "qdisc removed"}})
	at(80*time.Second, gamedays.Event{Type: gamedays.EvPhase, Phase: "conclude"})
	at(80*time.Second, gamedays.Event{Type: gamedays.EvExpectation, Checks: []gamedays.CheckResult{
		{Section: "expect", Panel: "p95", Threshold: "< baseline * 2", Limit: 0.22, Value: 0.31, Baseline: 0.11, Held: false, Text: "p95[web-2] broken: 310ms (95th percentile of 30 samples), against < 220ms (baseline 110ms × 2), 09:00:40–09:01:10"},
		{Section: "expect", Panel: "error_rate", Threshold: "< 2%", Limit: 0.02, Value: 0.004, Held: true, Text: "error_rate[web-2] held: 0.4% (95th percentile of 30 samples), against < 2%, 09:00:40–09:01:10"},
	}})
	at(80*time.Second, gamedays.Event{Type: gamedays.EvVerdict, Verdict: "refuted", Msg: "p95[web-2] broken: 310ms (95th percentile of 30 samples), against < 220ms (baseline 110ms × 2)"})
	at(85*time.Second, gamedays.Event{Type: gamedays.EvNote, Kind: "action", Author: "ana", Msg: "add an outlier-ejection rule to the load balancer"})
	if to == stConclude {
		return evs, t0.Add(90 * time.Second)
	}
	at(91*time.Second, gamedays.Event{Type: gamedays.EvRunEnd, Verdict: "refuted"})
	return evs, t0.Add(92 * time.Second)
}

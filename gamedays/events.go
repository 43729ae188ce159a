package gamedays

import (
	"time"

	"github.com/gameday/gameday/targets"
)

// Phase is where a game day stands.
type Phase int

// The phases in order; Aborted and Done are terminal.
const (
	PhaseBaseline Phase = iota
	PhaseHypothesis
	PhaseBlastRadius
	PhaseRun
	PhaseObserve
	PhaseConclude
	PhaseAborted
	PhaseDone
)

var phaseNames = [...]string{"baseline", "hypothesis", "blast radius", "run", "observe", "conclude", "aborted", "done"}

func (p Phase) String() string {
	if p < 0 || int(p) >= len(phaseNames) {
		return "unknown"
	}
	return phaseNames[p]
}

// Verdict is how a game day ended.
type Verdict string

// Verdicts, with the exit codes the autopilot maps them to.
const (
	VerdictNone    Verdict = ""
	VerdictHeld    Verdict = "held"    // 0
	VerdictRefuted Verdict = "refuted" // 1
	VerdictAborted Verdict = "aborted" // 2
	VerdictBlocked Verdict = "blocked" // 3
)

// Event types written to the journal and published to subscribers.
const (
	EvRunStart       = "run.start"
	EvPhase          = "phase"
	EvBaseline       = "baseline.stats"
	EvSteadyState    = "steady_state"
	EvHypothesis     = "hypothesis"
	EvResolved       = "targets.resolved"
	EvSelected       = "blast.selected"
	EvProbe          = "probe"
	EvPreflight      = "preflight"
	EvConfirmed      = "blast.confirmed"
	EvAttackIntent   = "attack.intent"
	EvAttackResult   = "attack.result"
	EvFaultEnded     = "fault.ended" // a fault ended on its own before its duration
	EvRollbackIntent = "rollback.intent"
	EvRollbackResult = "rollback.result"
	EvGuardrail      = "guardrail.breach"
	EvBlind          = "metrics.blind"
	EvMetricsError   = "metrics.error"
	EvSample         = "sample"
	EvAbort          = "abort"
	EvNote           = "note"
	EvExpectation    = "expectation"
	EvVerdict        = "verdict"
	EvRunEnd         = "run.end"
)

// Event is one line of the journal. Fields beyond the header are set by the
// event types that need them.
type Event struct {
	V    int       `json:"v"`
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	Type string    `json:"type"`

	Phase   string `json:"phase,omitempty"`
	Msg     string `json:"msg,omitempty"`
	RunID   string `json:"run_id,omitempty"`
	Source  string `json:"source,omitempty"` // who or what caused it: key, signal, guardrail, recover, ...
	Author  string `json:"author,omitempty"` // notes: who wrote it
	Kind    string `json:"kind,omitempty"`   // notes: note, prediction, finding, action
	OK      *bool  `json:"ok,omitempty"`
	Verdict string `json:"verdict,omitempty"`

	Runbook string `json:"runbook,omitempty"` // run.start: the runbook source as run
	File    string `json:"file,omitempty"`
	Version string `json:"version,omitempty"`
	// TimeScale (run.start) is the factor the runbook's durations were
	// multiplied by for a rehearsal (gameday run --time-scale); 0 means 1.
	TimeScale float64 `json:"time_scale,omitempty"`
	// Drill (run.start) says the run was an on-call drill (Options.Drill).
	Drill     bool                `json:"drill,omitempty"`
	Target    string              `json:"target,omitempty"`
	Members   []targets.Member    `json:"members,omitempty"`
	Seed      *int64              `json:"seed,omitempty"`
	Injection *targets.Injection  `json:"injection,omitempty"`
	Result    *targets.Result     `json:"result,omitempty"`
	Checks    []CheckResult       `json:"checks,omitempty"`
	Stats     map[string]Stats    `json:"stats,omitempty"`
	Samples   []Sample            `json:"samples,omitempty"`
	Plan      []string            `json:"plan,omitempty"`
	Warnings  []string            `json:"warnings,omitempty"` // preflight: what people must know before confirming
	Failed    []targets.Injection `json:"failed,omitempty"`   // rollbacks that did not complete
	Problems  []string            `json:"problems,omitempty"` // probe, preflight: each member's own failure, in full
	Live      *Live               `json:"live,omitempty"`     // EvLive only; never journalled
	// Stage is the escalation stage the event belongs to (1-based; 0 in a
	// run without stages); StagePlan is a stage's plan (stage.plan).
	Stage     int        `json:"stage,omitempty"`
	StagePlan *StagePlan `json:"stage_plan,omitempty"`
	// Until is when a wait ends: a stage asked to be confirmed (stage.ask).
	Until  time.Time     `json:"until,omitzero"`
	Alert  *AlertMark    `json:"alert,omitempty"`  // EvAlert
	Alerts []AlertResult `json:"alerts,omitempty"` // EvAlerts
}

// MustSync says whether the event must be on disk before the engine goes on:
// intents announce actions, and the rest mark points recovery relies on.
func (e Event) MustSync() bool {
	switch e.Type {
	case EvAttackIntent, EvRollbackIntent, EvAttackResult, EvRollbackResult, EvConfirmed, EvAbort, EvPhase, EvVerdict, EvRunEnd, EvRunStart, EvStageStart, EvStageConfirm:
		return true
	}
	return false
}

// Stats summarise one panel over a window.
type Stats struct {
	Min    Num `json:"min"`
	Median Num `json:"median"`
	P95    Num `json:"p95"`
	Max    Num `json:"max"`
	Mean   Num `json:"mean"`
	Last   Num `json:"last"`
	Count  int `json:"count"`
	Gaps   int `json:"gaps"`
}

// CheckResult is one threshold evaluated with its evidence.
type CheckResult struct {
	Section   string    `json:"section"` // steady_state, expect, guardrail
	Panel     string    `json:"panel"`
	Threshold string    `json:"threshold"`
	Statistic string    `json:"statistic,omitempty"` // what Value is, e.g. "p95 of 60 steps"
	Limit     Num       `json:"limit"`
	Value     Num       `json:"value"`
	Baseline  Num       `json:"baseline"`
	Held      bool      `json:"held"`
	NoData    bool      `json:"no_data,omitempty"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Text      string    `json:"text"` // the evidence in words
}

// Sample is one metric point of one series.
type Sample struct {
	Panel  string    `json:"panel"`
	Series string    `json:"series,omitempty"`
	T      time.Time `json:"t"`
	V      Num       `json:"v"`
}

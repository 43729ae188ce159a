// Package report turns a game-day journal into what the team sends around
// afterwards: Markdown with SVG charts beside it, one self-contained HTML
// file, and a versioned JSON summary for tools. It reads nothing but the
// journal, so a report can be rebuilt at any time, also from a run that was
// aborted, blocked or killed mid-write.
package report

import (
	"time"

	"github.com/gameday/gameday/gamedays"
)

// Schema names the JSON layout. It changes only when a field is removed or
// changes meaning; new fields may appear within a version.
const Schema = "gameday.report/v1"

// Report is everything a report says, in the order it says it. Field names
// of the JSON form are part of Schema. A Report is not safe for concurrent
// use: its writers keep the charts they draw.
type Report struct {
	Schema      string `json:"schema"`
	RunID       string `json:"run_id"`
	Title       string `json:"title"`
	RunbookFile string `json:"runbook_file"`
	ToolVersion string `json:"tool_version"`
	// TimeScale is set on a rehearsal: every duration of the plan was
	// multiplied by it (gameday run --time-scale).
	TimeScale    float64       `json:"time_scale,omitempty"`
	Start        time.Time     `json:"start"`
	End          time.Time     `json:"end"`
	Duration     float64       `json:"duration_seconds"`
	Status       Status        `json:"status"`
	Verdict      Verdict       `json:"verdict"`
	Participants []Participant `json:"participants"`
	Hypothesis   Hypothesis    `json:"hypothesis"`
	SteadyState  []Check       `json:"steady_state"`
	Panels       []Panel       `json:"panels"`
	BlastRadius  []Blast       `json:"blast_radius"`
	Attacks      []Attack      `json:"attacks"`
	// Stages are the escalation's stages, in a run that has them.
	Stages     []Stage     `json:"stages,omitempty"`
	Guardrails []Guardrail `json:"guardrails"`
	Breaches   []Breach    `json:"breaches"`
	Aborts     []Abort     `json:"aborts"`
	// Unreverted lists injections that may still be applied: their rollback
	// failed, or the journal ends before one was confirmed.
	Unreverted []Injection `json:"unreverted"`
	Drill      *Drill      `json:"drill,omitempty"`
	// Alerts is the judgement of the runbook's alerts section;
	// OtherAlerts the alerts that fired from the inject on that it neither
	// expects nor forbids.
	Alerts      []gamedays.AlertResult `json:"alerts,omitempty"`
	OtherAlerts []gamedays.AlertMark   `json:"other_alerts,omitempty"`
	Timeline    []Entry                `json:"timeline"`
	Findings    []Note                 `json:"findings"`
	// Predictions are the guesses written before the run, each beside
	// what was measured.
	Predictions   []Prediction `json:"predictions"`
	Actions       []Note       `json:"action_items"`
	RunbookSource string       `json:"runbook_source"`

	// Warnings are problems met while reading the journal (a runbook that no
	// longer parses, events out of order); the report says them at the top.
	Warnings []string `json:"warnings"`

	charts chartData
	svgs   map[int][]byte // drawn charts by panel index
}

// Status says whether the journal tells the whole story.
type Status struct {
	// Outcome is held, refuted, aborted, blocked, dry-run or incomplete.
	Outcome string `json:"outcome"`
	// Complete is true when the journal ends with run.end.
	Complete bool `json:"complete"`
	// Truncated is true when the last line was cut short (a crash while writing).
	Truncated bool `json:"truncated"`
	// Recovered is true when `gameday recover` closed the run afterwards and
	// rolled back everything it found.
	Recovered bool `json:"recovered"`
	// Notice is the sentence the report opens with when the run did not end
	// normally; empty for held and refuted runs.
	Notice string `json:"notice"`
}

// Verdict is how the game day ended, with the evidence for it.
type Verdict struct {
	// Value is held, refuted, aborted or blocked; "" when none was reached
	// (a dry run, or a journal that stops before the verdict).
	Value    string  `json:"value"`
	Reason   string  `json:"reason"`
	Evidence []Check `json:"evidence"`
}

// Check is one threshold with the numbers it was judged on. Value and
// Baseline are null when there was no data or no baseline.
type Check struct {
	Panel     string       `json:"panel"`
	Threshold string       `json:"threshold"`
	Limit     gamedays.Num `json:"limit"`
	Value     gamedays.Num `json:"value"`
	Baseline  gamedays.Num `json:"baseline"`
	// Held is null until the check was judged (an expectation before conclude).
	Held   *bool  `json:"held"`
	NoData bool   `json:"no_data"`
	Text   string `json:"text"`
}

// Participant is someone named in the runbook's roles or in the notes.
type Participant struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
	Notes int      `json:"notes"`
	// Joined: they followed the game day live over gameday serve.
	Joined bool `json:"joined"`
}

// Hypothesis is what the team expected, with every limit resolved against
// the baseline.
type Hypothesis struct {
	Statement    string  `json:"statement"`
	Expectations []Check `json:"expectations"`
}

// Stats summarise one panel over a window; null statistics mean no data.
type Stats struct {
	Min    gamedays.Num `json:"min"`
	Median gamedays.Num `json:"median"`
	P95    gamedays.Num `json:"p95"`
	Max    gamedays.Num `json:"max"`
	Count  int          `json:"count"`
}

// Panel is one metric: its steady state at baseline, the same statistics
// over the attack window, and the change of the median between them.
type Panel struct {
	Name     string `json:"name"`
	Title    string `json:"title"`
	Unit     string `json:"unit"`
	Baseline Stats  `json:"baseline"`
	Attack   Stats  `json:"attack_window"`
	// Delta is the attack window's median minus the baseline median, in the
	// panel's base unit (seconds, ratio, bytes); null without both.
	Delta gamedays.Num `json:"delta"`
}

// Blast is one target's blast radius: how it was chosen and what it hit.
type Blast struct {
	Target    string   `json:"target"`
	Selection string   `json:"selection"`
	Seed      *int64   `json:"seed"`
	Resolved  []string `json:"resolved"`
	Selected  []string `json:"selected"`
}

// Attack is one injection on one member, from intent to rollback.
type Attack struct {
	Name     string            `json:"name"`
	Target   string            `json:"target"`
	Member   string            `json:"member"`
	Kind     string            `json:"kind"`
	Params   map[string]string `json:"params"`
	Duration float64           `json:"duration_seconds"`
	// InjectedAt is when the intent was journalled, just before the call.
	InjectedAt *time.Time `json:"injected_at"`
	// Result is applied, failed, or unknown (the journal ends before the
	// call returned).
	Result string `json:"result"`
	Output string `json:"output"`
	Error  string `json:"error"`
	// RolledBackAt is when a rollback was confirmed; null if never.
	RolledBackAt   *time.Time `json:"rolled_back_at"`
	Rollback       string     `json:"rollback"` // ok, failed, pending, none
	RollbackReason string     `json:"rollback_reason"`
	RollbackOutput string     `json:"rollback_output"`
	RollbackError  string     `json:"rollback_error"`
	// AppliedAt and EndedAt are the fault's real window: from when it took
	// effect to when its rollback was confirmed or, when the link to the
	// member was lost, its dead man's switch ended it. Null when unknown.
	AppliedAt *time.Time `json:"applied_at"`
	EndedAt   *time.Time `json:"ended_at"`
	LinkLost  bool       `json:"link_lost"`
	// Overran is how many seconds longer than planned the fault lasted,
	// when that is more than a second; 0 otherwise.
	Overran float64 `json:"overran_seconds"`
	// EndedEarly says how the fault ended on its own before its duration
	// (an FIS experiment AWS stopped); EndedAt is then when.
	EndedEarly string `json:"ended_early,omitempty"`
	// Gone says its rollback found the fault already ended by something
	// other than gameday (when is not known).
	Gone bool `json:"gone_before_rollback,omitempty"`
}

// Guardrail is one stop condition as the runbook set it.
type Guardrail struct {
	Panel     string       `json:"panel"`
	Threshold string       `json:"threshold"`
	Limit     gamedays.Num `json:"limit"`
}

// Breach is a guardrail that fired or metrics going blind.
type Breach struct {
	At    time.Time `json:"at"`
	T     float64   `json:"t_seconds"`
	Panel string    `json:"panel"`
	Text  string    `json:"text"`
}

// Abort is one abort request.
type Abort struct {
	At     time.Time `json:"at"`
	T      float64   `json:"t_seconds"`
	Source string    `json:"source"` // key, SIGINT, guardrail, metrics blind, ...
	By     string    `json:"by"`     // who pressed it, when a person did
	Reason string    `json:"reason"`
}

// Injection names an injection that may still be applied.
type Injection struct {
	Attack string `json:"attack"`
	Kind   string `json:"kind"`
	Member string `json:"member"`
	Why    string `json:"why"`
}

// Drill is the time to detect and mitigate of an on-call drill.
type Drill struct {
	TTD         gamedays.Num `json:"ttd_seconds"`
	TTM         gamedays.Num `json:"ttm_seconds"`
	DetectedBy  string       `json:"detected_by"`
	MitigatedBy string       `json:"mitigated_by"`
	// What responders said they saw and did, with their marks.
	Detected    string `json:"detected"`
	Mitigated   string `json:"mitigated"`
	Hints       int    `json:"hints"`
	FalseAlarms int    `json:"false_alarms"`
	// Gone is when the run saw a fault removed before its rollback, in
	// seconds after it landed (NaN: never), and GoneWhat which one: the
	// mitigation as the hosts tell it.
	Gone     gamedays.Num `json:"gone_seconds"`
	GoneWhat string       `json:"gone_what,omitempty"`
	// Alerts set the alerting beside the responders: when each expected
	// alert fired and paged, counted from the same inject as TTD.
	Alerts []DrillAlert `json:"alerts,omitempty"`
}

// DrillAlert is one expected alert's times in a drill, in seconds after
// the fault landed (NaN: it never did).
type DrillAlert struct {
	Alert string       `json:"alert"`
	Fired gamedays.Num `json:"fired_seconds"`
	Paged gamedays.Num `json:"paged_seconds"`
}

// Entry is one line of the timeline.
type Entry struct {
	At     time.Time `json:"at"`
	T      float64   `json:"t_seconds"`
	Type   string    `json:"type"`
	Phase  string    `json:"phase"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
}

// Note is a finding or an action item.
type Note struct {
	At     time.Time `json:"at"`
	T      float64   `json:"t_seconds"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
}

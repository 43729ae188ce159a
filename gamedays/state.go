package gamedays

import (
	"fmt"
	"slices"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// Key identifies one injection: one attack on one member of one target.
// The console, the report, recover and the autopilot all name an injection
// by it. In a staged run a member re-injected with a new magnitude is a new
// injection, so the stage is part of the key: the old one's rollback and
// the new one's inject each keep their own record.
type Key struct {
	Attack, Target, Member string
	Stage                  int
}

// KeyOf is the key of an injection.
func KeyOf(inj targets.Injection) Key {
	return Key{Attack: inj.Attack, Target: inj.Member.Target, Member: inj.Member.ID, Stage: inj.Stage}
}

func (k Key) String() string {
	if k.Stage > 0 {
		return fmt.Sprintf("%s on %s (stage %d)", k.Attack, k.Member, k.Stage)
	}
	return k.Attack + " on " + k.Member
}

// Status is where one injection stands.
type Status int

// Statuses in the order an injection goes through them.
const (
	StatusPlanned Status = iota
	StatusInjecting
	StatusApplied
	StatusInjectFailed
	StatusRollingBack
	StatusReverted
	StatusRollbackFailed
	// StatusEnded is a fault that ended before its duration without
	// gameday (an FIS experiment AWS stopped, a fault the run's check found
	// removed): no longer in effect, its rollback still to confirm it and
	// tidy up.
	StatusEnded
)

var statusNames = [...]string{"pending", "injecting", "ACTIVE", "inject failed", "rolling back", "reverted", "ROLLBACK FAILED", "ENDED EARLY"}

func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return "unknown"
	}
	return statusNames[s]
}

// MayBeApplied says whether the fault may be in effect: its intent was
// journalled and no rollback was confirmed. A failed inject counts, since
// the call may have half worked.
func (s Status) MayBeApplied() bool {
	switch s {
	case StatusInjecting, StatusApplied, StatusInjectFailed, StatusRollingBack, StatusRollbackFailed, StatusEnded:
		return true
	}
	return false
}

// InjectionState is everything the journal says about one injection.
type InjectionState struct {
	Key Key
	// Injection is the latest the journal holds: the result's copy carries
	// what the executor learnt at inject time, which its rollback needs.
	Injection targets.Injection
	Status    Status
	Intended  bool // an attack.intent was journalled
	order     int  // the intent's place among all intents

	Preflight *Preflight

	IntentAt   time.Time // the intent was journalled
	AppliedAt  time.Time // the fault took effect (executor's word, else the result)
	RevertedAt time.Time // a rollback was confirmed
	EndedAt    time.Time // the fault was seen ended early, before its rollback
	EndedWhy   string    // how, in the executor's words
	// Gone says its rollback found the fault already ended by something
	// other than gameday (the engine journals the claim only for a fault
	// that landed, and a planned rollback).
	Gone     bool
	Expires  time.Time // the fault's own bound ends it (dead man's switch)
	LinkLost bool      // applied, then the executor lost its link to the member
	// Irreversible says the rollback had nothing it could undo (a failover,
	// a stopped task): the fault ended when it happened, not at "reverted".
	Irreversible bool

	Output      string // the last step's output
	Err         string // the last failed step's error, with the host's own words
	RollbackWhy string // duration over, abort, recover

	// Each step's own result: Inject and Rollback are "" until the step's
	// intent, then pending, then ok or failed.
	Inject, Rollback            string
	InjectOutput, InjectErr     string
	RollbackOutput, RollbackErr string
}

// Step results an InjectionState records.
const (
	StepPending = "pending"
	StepOK      = "ok"
	StepFailed  = "failed"
)

// Overran says the fault lasted longer than planned (a lost link left it
// to the dead man's switch, or the rollback came late), by more than slack.
func (s *InjectionState) Overran(slack time.Duration) (time.Duration, bool) {
	from, to, open := s.Window()
	if open || from.IsZero() {
		return 0, false
	}
	over := to.Sub(from) - s.Injection.Duration
	return over, over > slack
}

// Preflight is one injection's preflight result.
type Preflight struct {
	OK       bool
	Msg      string
	Plan     []string // dry run: the commands or calls the injection would make
	Warnings []string // what people must know before they confirm
}

// Window is the fault's real window: from when it took effect to when its
// rollback was confirmed or, for a host the link to was lost, its switch
// fired. open says the end is not known yet.
func (s *InjectionState) Window() (from, to time.Time, open bool) {
	from = s.AppliedAt
	switch {
	case !s.EndedAt.IsZero() && (s.RevertedAt.IsZero() || s.EndedAt.Before(s.RevertedAt)):
		to = s.EndedAt // it was seen ended; the rollback only confirmed that
	case !s.RevertedAt.IsZero():
		to = s.RevertedAt
		if s.LinkLost && !s.Expires.IsZero() && s.Expires.Before(to) {
			to = s.Expires // the switch ended it before the rollback could confirm
		}
	case s.LinkLost && !s.Expires.IsZero():
		to = s.Expires
	default:
		open = true
	}
	return from, to, open
}

// TargetState is one target's resolution and selection.
type TargetState struct {
	Name     string
	Resolved []targets.Member
	Selected []targets.Member
	Seed     *int64
}

// AbortState is the first abort: who or what asked and why.
type AbortState struct {
	At             time.Time
	Source, Author string
	Msg            string
}

// State is a game day as its journal tells it. Apply is the only code that
// folds events into it; the console, the report, recover and the autopilot
// read it, so they cannot disagree about an injection or the verdict.
type State struct {
	Runbook *runbook.Runbook // as run (from run.start), or given to NewState

	RunID, Title, File, Version, Source string
	Start, Last                         time.Time
	// TimeScale is what the runbook's durations were multiplied by for a
	// rehearsal (0 or 1: as written).
	TimeScale float64
	Phase     Phase
	PhaseAt   [PhaseDone + 1]time.Time

	Baseline    map[string]Stats
	Steady      []CheckResult
	SteadyKnown bool
	SteadyOK    bool
	Probe       *Event // the probe before the baseline
	Statement   string
	Expect      []CheckResult // resolved at the hypothesis
	Results     []CheckResult // judged at conclude

	Targets   []*TargetState
	Confirmed bool
	// Stages is the escalation plan and how far it got (stages.go); nil
	// in a run without stages. Stage is the one under way, 1-based.
	Stages []*StageState
	Stage  int
	// ConfirmEach: the engine asks before each escalation; AskStage is the
	// stage it waits to have confirmed (0: none), until AskUntil.
	ConfirmEach bool
	AskStage    int
	AskUntil    time.Time
	Injections  []*InjectionState

	Abort      *AbortState
	Guardrail  string // the breach that fired
	Blind      string // metrics blind
	MetricsErr string // the last metrics error

	Verdict    Verdict
	VerdictMsg string
	VerdictSet bool
	Failed     []targets.Injection // what the engine said it could not revert
	// Drill is where a drill stands: marks, times, hints released.
	Drill DrillTimes
	// Live is the engine's latest judgement of the metrics (EvLive); the
	// console shows it and never judges on its own.
	Live *Live
	// AlertMarks are the alert transitions seen; AlertResults the
	// judgement of the runbook's alerts section.
	AlertMarks   []AlertMark
	AlertResults []AlertResult
	Ended        bool // run.end
	Recovered    bool // a recovery finished with everything reverted
	RecoverMsg   string

	byKey    map[Key]*InjectionState
	byTarget map[string]*TargetState
	intents  int
	// ParseErr is why the runbook recorded in run.start did not parse.
	ParseErr error
}

// NewState returns an empty state. rb may be nil: the runbook recorded at
// run.start is used then.
func NewState(rb *runbook.Runbook) *State {
	return &State{Runbook: rb, byKey: map[Key]*InjectionState{}, byTarget: map[string]*TargetState{}}
}

// Fold applies every event to a new state.
func Fold(events []Event) *State {
	s := NewState(nil)
	for _, ev := range events {
		s.Apply(ev)
	}
	return s
}

// Apply folds one event into the state.
func (s *State) Apply(ev Event) {
	if !ev.Time.IsZero() {
		s.Last = ev.Time
	}
	s.Drill.Apply(ev)
	switch ev.Type {
	case EvRunStart:
		s.runStart(ev)
	case EvPreflight, EvAttackIntent, EvAttackResult, EvFaultEnded, EvRollbackIntent, EvRollbackResult:
		s.injection(ev)
	case EvStagePlan, EvStageStart, EvStageResult, EvStageAsk, EvStageConfirm, EvConfirmEach:
		s.stage(ev)
	case EvResolved, EvSelected, EvConfirmed:
		s.targets(ev)
	case EvAlert, EvAlerts:
		s.alerts(ev)
	case EvBaseline, EvSteadyState, EvHypothesis, EvExpectation, EvGuardrail, EvBlind, EvMetricsError, EvLive:
		s.checks(ev)
	default:
		s.lifecycle(ev)
	}
}

// lifecycle folds where the run stands and how it ended.
func (s *State) lifecycle(ev Event) {
	switch ev.Type {
	case EvPhase:
		p := PhaseOf(ev.Phase)
		s.Phase = p
		if s.PhaseAt[p].IsZero() {
			s.PhaseAt[p] = ev.Time
		}
	case EvProbe:
		e := ev
		s.Probe = &e
	case EvAbort:
		if s.Abort == nil {
			s.Abort = &AbortState{At: ev.Time, Source: ev.Source, Author: ev.Author, Msg: ev.Msg}
		}
	case EvVerdict:
		s.Verdict, s.VerdictMsg, s.VerdictSet = Verdict(ev.Verdict), ev.Msg, true
		s.Failed = ev.Failed
	case EvRunEnd:
		s.Ended = true
		if !s.VerdictSet {
			s.Verdict, s.VerdictMsg = Verdict(ev.Verdict), ev.Msg
		}
		if len(ev.Failed) > 0 {
			s.Failed = ev.Failed
		}
	case EvRecover:
		if ev.OK != nil {
			s.Recovered, s.RecoverMsg = *ev.OK, ev.Msg
		}
	}
}

// checks folds what was measured and judged.
func (s *State) checks(ev Event) {
	switch ev.Type {
	case EvBaseline:
		s.Baseline = ev.Stats
	case EvSteadyState:
		s.Steady, s.SteadyKnown, s.SteadyOK = ev.Checks, true, ev.OK != nil && *ev.OK
	case EvHypothesis:
		s.Statement, s.Expect = ev.Msg, ev.Checks
	case EvExpectation:
		s.Results = ev.Checks
	case EvGuardrail:
		s.Guardrail = ev.Msg
	case EvBlind:
		s.Blind = ev.Msg
	case EvMetricsError:
		s.MetricsErr = ev.Msg
	case EvLive:
		s.Live = ev.Live
	}
}

// alerts folds what the alerting did and how it was judged.
func (s *State) alerts(ev Event) {
	switch ev.Type {
	case EvAlert:
		if ev.Alert != nil {
			s.AlertMarks = append(s.AlertMarks, *ev.Alert)
		}
	case EvAlerts:
		s.AlertResults = ev.Alerts
	}
}

// targets folds the blast radius: what resolved, what was selected.
func (s *State) targets(ev Event) {
	switch ev.Type {
	case EvResolved:
		s.target(ev.Target).Resolved = ev.Members
	case EvSelected:
		t := s.target(ev.Target)
		t.Selected, t.Seed = ev.Members, ev.Seed
		s.plan(ev.Target, ev.Members)
	case EvConfirmed:
		s.Confirmed = true
	}
}

func (s *State) runStart(ev Event) {
	s.Start, s.RunID, s.Title, s.File, s.Version, s.Source = ev.Time, ev.RunID, ev.Msg, ev.File, ev.Version, ev.Runbook
	s.TimeScale = ev.TimeScale
	if s.Runbook != nil || ev.Runbook == "" {
		return
	}
	rb, err := runbook.Parse(ev.File, []byte(ev.Runbook), nil)
	if err != nil {
		s.ParseErr = err
		return
	}
	if ev.TimeScale > 0 {
		rb.Scale(ev.TimeScale)
	}
	s.Runbook = rb
}

func (s *State) target(name string) *TargetState {
	t := s.byTarget[name]
	if t == nil {
		t = &TargetState{Name: name}
		s.byTarget[name] = t
		s.Targets = append(s.Targets, t)
	}
	return t
}

// plan lists, as pending, every attack on the target's selected members, so
// what will happen is shown before it does.
func (s *State) plan(target string, members []targets.Member) {
	if s.Runbook == nil {
		return
	}
	for _, a := range s.Runbook.Attacks {
		if a.Target != target || len(a.Stages) > 0 {
			continue // a staged attack's injections come with its stage plan
		}
		for _, m := range members {
			inj := targets.Injection{RunID: s.RunID, Attack: a.Name, Kind: a.Kind, Member: m, Duration: a.Duration}
			s.get(inj)
		}
	}
}

func (s *State) get(inj targets.Injection) *InjectionState {
	k := KeyOf(inj)
	is := s.byKey[k]
	if is == nil {
		is = &InjectionState{Key: k, Injection: inj}
		s.byKey[k] = is
		s.Injections = append(s.Injections, is)
	}
	return is
}

// Injection returns the state of the injection with key k.
func (s *State) Injection(k Key) (*InjectionState, bool) {
	is, ok := s.byKey[k]
	return is, ok
}

func (s *State) injection(ev Event) {
	if ev.Injection == nil {
		return
	}
	is := s.get(*ev.Injection)
	ok := ev.OK != nil && *ev.OK
	var res targets.Result
	if ev.Result != nil {
		res = *ev.Result
	}
	switch ev.Type {
	case EvPreflight:
		is.Preflight = &Preflight{OK: ok, Msg: ev.Msg, Plan: ev.Plan, Warnings: ev.Warnings}
	case EvAttackIntent:
		is.Injection, is.IntentAt, is.Status, is.Inject = *ev.Injection, ev.Time, StatusInjecting, StepPending
		if !is.Intended {
			s.intents++
			is.Intended, is.order = true, s.intents
		}
	case EvAttackResult:
		is.Injection = *ev.Injection
		is.Output, is.Err = res.Output, res.Err
		is.InjectOutput, is.InjectErr = res.Output, res.Err
		is.Expires, is.LinkLost = res.Expires, res.LinkLost
		if ok {
			is.Status, is.Inject, is.AppliedAt = StatusApplied, StepOK, res.Applied
			if is.AppliedAt.IsZero() {
				is.AppliedAt = ev.Time
			}
		} else {
			is.Status, is.Inject = StatusInjectFailed, StepFailed
		}
	case EvFaultEnded:
		is.EndedAt, is.EndedWhy = ev.Time, ev.Msg
		if is.Status == StatusApplied {
			is.Status = StatusEnded
		}
	case EvRollbackIntent:
		is.RollbackWhy = ev.Msg
		if is.Status != StatusReverted {
			is.Status, is.Rollback = StatusRollingBack, StepPending
		}
	case EvRollbackResult:
		if res.Output != "" {
			is.Output = res.Output
		}
		is.RollbackOutput, is.RollbackErr = res.Output, res.Err
		is.Irreversible = is.Irreversible || res.Nothing
		is.Gone = is.Gone || ok && res.Gone
		if ok {
			is.Status, is.Rollback, is.RevertedAt, is.Err = StatusReverted, StepOK, ev.Time, ""
		} else {
			is.Status, is.Rollback, is.Err = StatusRollbackFailed, StepFailed, res.Err
		}
	}
}

// Unreverted lists the injections that may still be applied, in the order
// their intents were journalled: the intent is in the journal and no
// rollback was confirmed. An intent without a result counts: the call may
// have landed before a crash.
func (s *State) Unreverted() []targets.Injection {
	var list []*InjectionState
	for _, is := range s.Injections {
		if is.Intended && is.Status.MayBeApplied() {
			list = append(list, is)
		}
	}
	sortByIntent(list)
	out := make([]targets.Injection, len(list))
	for i, is := range list {
		out[i] = is.Injection
	}
	return out
}

// Active lists the injections that may be in effect now, as the console
// shows them.
func (s *State) Active() []*InjectionState {
	var out []*InjectionState
	for _, is := range s.Injections {
		if is.Intended && is.Status.MayBeApplied() {
			out = append(out, is)
		}
	}
	return out
}

// Finished says whether the run is over: it ended on its own, or a
// recovery closed it.
func (s *State) Finished() bool { return s.Ended || s.Recovered }

// Elapsed is T+ at t.
func (s *State) Elapsed(t time.Time) time.Duration {
	if s.Start.IsZero() || t.Before(s.Start) {
		return 0
	}
	return t.Sub(s.Start)
}

func sortByIntent(list []*InjectionState) {
	slices.SortFunc(list, func(a, b *InjectionState) int { return a.order - b.order })
}

// PhaseOf is the phase with that name; unknown names read as the baseline.
func PhaseOf(name string) Phase {
	for p := PhaseBaseline; p <= PhaseDone; p++ {
		if p.String() == name {
			return p
		}
	}
	return PhaseBaseline
}

package gamedays

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// Observer is the engine's view of the metrics; *metrics.Poller is one.
type Observer interface {
	metrics.Source
	Poll(ctx context.Context) error
	Health() []metrics.Health
}

// IntentType is what a participant asks the engine to do.
type IntentType int

// Intents the engine takes.
const (
	IntentNext    IntentType = iota // move on from hypothesis or conclude
	IntentConfirm                   // confirm the blast radius exactly as shown
	IntentNote                      // add a note, prediction, finding or action item
	IntentAbort                     // stop and roll everything back
	// IntentConfirmEach turns asking before each escalation of a staged
	// run on (Text "on") or off ("off"); taken whenever it arrives.
	IntentConfirmEach
)

// Intent is a request from the console, the autopilot, a signal or a test.
type Intent struct {
	Type   IntentType
	Text   string
	Kind   string // for notes: note, prediction, finding, action
	Author string
	Source string // for aborts: key, SIGINT, SIGTERM, ...
	// At is when a note was written (a drill's marks are timed by it);
	// zero means when the engine takes it.
	At time.Time
}

// Options wire an engine to the world.
type Options struct {
	RunID     string
	Source    []byte // the runbook text as run, for the journal
	Journal   Recorder
	Clock     Clock
	Catalogue *targets.Catalogue
	Resolvers map[string]targets.Resolver // by target family
	Executors map[string]targets.Executor // by target family
	Metrics   Observer
	// Alerts watches the team's alerting for the runbook's alerts section.
	Alerts AlertWatcher
	// AutoAdvance moves on from hypothesis and conclude without an intent;
	// AutoConfirm confirms the blast radius (autopilot --yes).
	AutoAdvance, AutoConfirm bool
	// ConfirmEachStage asks for a confirmation (IntentConfirm) before each
	// escalation of a staged run, waiting at most StageConfirmWait
	// (default DefaultStageConfirmWait) with the stage before in place.
	ConfirmEachStage bool
	StageConfirmWait time.Duration
	// DryRun resolves, preflights and journals the plan, and injects nothing.
	DryRun bool
	// Parallel bounds concurrent executor calls per attack (default 64).
	Parallel int
	// Drill runs the game day as a drill: the runbook's hints with an
	// after: are released that long after the first fault lands.
	Drill bool
	// OnEvent sees every event after it is journalled, on the engine's
	// goroutines; it must not block.
	OnEvent func(Event)
	Version string
	// TimeScale is what the runbook's durations were multiplied by before
	// the engine got it (runbook.Scale); journalled so every reader of the
	// journal sees the plan as run.
	TimeScale float64
}

// Recorder is where the engine journals; *Journal is one.
type Recorder interface {
	Append(Event) (Event, error)
	Sync() error
}

// Outcome is how a game day ended.
type Outcome struct {
	Verdict      Verdict
	Reason       string
	Expectations []CheckResult
	// Unreverted lists injections whose rollback did not complete: something
	// may still be applied. The loudest outcome of all.
	Unreverted []targets.Injection
	// RolledBack of Pending injections were rolled back by an abort.
	RolledBack, Pending int
	// Stages are the stages judged, in order, in a run with stages.
	Stages []StageOutcome
}

// Engine runs one game day.
type Engine struct {
	rb   *runbook.Runbook
	opts Options
	eval *metrics.Evaluator

	intents chan Intent
	abortCh chan struct{}
	abortMu sync.Mutex
	abort   *Intent // first abort wins; later ones are journalled only

	// side holds events Send hands off to be journalled off its caller's
	// goroutine (refusals, repeated aborts, notes after the end).
	sideMu   sync.Mutex
	side     []Event
	sideBusy bool
	sideWG   sync.WaitGroup

	mu      sync.Mutex
	phase   Phase
	applied []*targets.Injection // intent journalled, rollback not confirmed; in injection order
	done    map[*targets.Injection]bool
	// execOf and inflight let an abort roll back exactly what was injected,
	// waiting for calls still under way.
	execOf   map[*targets.Injection]targets.Executor
	inflight map[*targets.Injection]chan struct{}
	start    time.Time
	baseFrom time.Time // the baseline window opened
	sampled  time.Time // samples are journalled from here on
	// sampledBy is, per panel, how far its samples are journalled;
	// flushedAt when the last flush ran.
	sampledBy map[string]time.Time
	flushedAt time.Time
	hints     hints
	// What landed: a verdict is only given for faults that really applied.
	results  map[*targets.Injection]targets.Result
	planned  int
	landed   int
	failures []string // "attack on member: the host's reason", for injects that failed
	// since is when each inject was called; lifted, what an executor said
	// of a fault that ended on its own (Lifted).
	since  map[*targets.Injection]time.Time
	lifted map[*targets.Injection]lift
	// gone names the faults a planned rollback found already ended.
	gone []string
	// shortened says which faults a drill saw end before their time and
	// went on without (Lifted), in the words journalled.
	shortened []string
	// endedEarly holds the faults journalled as fault.ended: their
	// rollback finding them gone says nothing new.
	endedEarly map[*targets.Injection]bool
	// A staged run's plan, the stage under way (1-based) and the stages judged.
	stages   []*stageStep
	stage    int
	stageOut []StageOutcome
	// askEach: ask before each escalation; askReady: the switches were
	// armed to cover the waits, so it may be turned on during the stages.
	askEach, askReady bool
	al                alertBook
}

// New prepares an engine for rb. Nothing happens until Run.
func New(rb *runbook.Runbook, opts Options) *Engine {
	if opts.Clock == nil {
		opts.Clock = WallClock()
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 64
	}
	e := &Engine{
		rb:        rb,
		opts:      opts,
		intents:   make(chan Intent, 64),
		abortCh:   make(chan struct{}),
		done:      map[*targets.Injection]bool{},
		execOf:    map[*targets.Injection]targets.Executor{},
		inflight:  map[*targets.Injection]chan struct{}{},
		results:   map[*targets.Injection]targets.Result{},
		since:     map[*targets.Injection]time.Time{},
		sampledBy: map[string]time.Time{},
		askEach:   opts.ConfirmEachStage,
	}
	if opts.Metrics != nil {
		e.eval = metrics.NewEvaluator(opts.Metrics, rb.Metrics.Panels)
	}
	return e
}

// Send delivers an intent from a, or refuses it (journalled as refused)
// when a's role does not allow it. It never blocks and never writes to disk
// itself: consoles call it from their update loop. An abort is never dropped
// or delayed: it closes a channel every phase watches, and the rollback
// journals it (synced) before its first call.
func (e *Engine) Send(a Actor, i Intent) error {
	if i.Author == "" {
		i.Author = a.Name
	}
	if err := Permit(a, i); err != nil {
		e.later(Event{Type: EvRefused, Author: a.Name, Source: i.Source,
			Msg: fmt.Sprintf("%s (%s) asked to %s: refused: %v", a.name(), a.Role, intentWords(i), err)})
		return err
	}
	e.deliver(i)
	return nil
}

// deliver takes an intent that is allowed.
func (e *Engine) deliver(i Intent) {
	if i.Type == IntentAbort {
		e.abortMu.Lock()
		first := e.abort == nil
		if first {
			e.abort = &i
			close(e.abortCh)
		}
		e.abortMu.Unlock()
		if !first {
			e.later(Event{Type: EvAbort, Source: i.Source, Author: i.Author, Msg: "abort requested again; the rollback already under way continues"})
		}
		return
	}
	if i.Type == IntentNote && i.Kind == NoteHint && !e.claimHint(i.Text) {
		e.later(Event{Type: EvNote, Source: i.Source, Msg: "hint already released: " + i.Text})
		return
	}
	// Findings and action items often come after the end, an abort or a
	// blocked baseline above all: once the run is over, notes go straight
	// to the journal, which the caller keeps open until the console closes.
	if i.Type == IntentNote && e.Phase() == PhaseDone {
		e.later(e.noteEvent(i))
		return
	}
	select {
	case e.intents <- i:
	default:
		e.later(Event{Type: EvNote, Msg: "intent dropped: the engine is busy", Source: i.Source})
	}
}

// later journals ev off the caller's goroutine, in the order later was
// called, so that Send never waits on the disk.
func (e *Engine) later(ev Event) {
	e.sideMu.Lock()
	e.side = append(e.side, ev)
	start := !e.sideBusy
	e.sideBusy = true
	e.sideMu.Unlock()
	if !start {
		return
	}
	e.sideWG.Add(1)
	go func() {
		defer e.sideWG.Done()
		for {
			e.sideMu.Lock()
			if len(e.side) == 0 {
				e.sideBusy = false
				e.sideMu.Unlock()
				return
			}
			ev := e.side[0]
			e.side = e.side[1:]
			e.sideMu.Unlock()
			e.emit(ev)
		}
	}()
}

// Flush waits until everything Send handed off is journalled. Callers close
// the journal after it.
func (e *Engine) Flush() { e.sideWG.Wait() }

// Phase is where the game day stands now.
func (e *Engine) Phase() Phase {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.phase
}

func (e *Engine) emit(ev Event) Event {
	if ev.Phase == "" {
		ev.Phase = e.Phase().String()
	}
	if ev.Stage == 0 {
		ev.Stage = e.currentStage()
	}
	if e.opts.Journal != nil {
		var err error
		ev, err = e.opts.Journal.Append(ev)
		if err != nil && e.opts.OnEvent != nil {
			e.opts.OnEvent(Event{Type: EvNote, Msg: "journal write failed: " + err.Error(), Time: e.opts.Clock.Now()})
		}
	} else if ev.Time.IsZero() {
		ev.Time = e.opts.Clock.Now().UTC()
	}
	e.noteHint(ev)
	e.alertClock(ev)
	if e.opts.OnEvent != nil {
		e.opts.OnEvent(ev)
	}
	return ev
}

func (e *Engine) setPhase(p Phase) {
	e.mu.Lock()
	e.phase = p
	e.mu.Unlock()
	e.emit(Event{Type: EvPhase, Phase: p.String()})
}

// errAborted unwinds the phases once an abort arrives.
var errAborted = errors.New("aborted")

func (e *Engine) aborted() bool {
	select {
	case <-e.abortCh:
		return true
	default:
		return false
	}
}

// Run walks the game day to its end and returns how it ended. Cancelling ctx
// aborts (with rollback) like an abort intent.
func (e *Engine) Run(ctx context.Context) (Outcome, error) {
	stop := context.AfterFunc(ctx, func() { e.deliver(Intent{Type: IntentAbort, Source: "context cancelled"}) })
	defer stop()
	e.emit(Event{Type: EvRunStart, RunID: e.opts.RunID, Msg: e.rb.Name, Runbook: string(e.opts.Source), File: e.rb.File, Version: e.opts.Version, TimeScale: e.opts.TimeScale, Drill: e.opts.Drill})
	// Phases run on their own context so that an abort stops them while the
	// rollback, which must outlive the abort, gets a fresh one.
	pctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-e.abortCh:
			cancel()
		case <-pctx.Done():
		}
	}()
	out, err := e.phases(pctx)
	e.stopHints()
	switch {
	case err == nil && e.aborted() && e.Phase() == PhaseConclude:
		// The verdict was given with every attack rolled back before it;
		// an abort now (a signal, the session closing while the room
		// writes findings) ends the run and leaves the verdict standing.
		out = e.rollbackAll(&out)
	case errors.Is(err, errAborted) || e.aborted():
		out = e.rollbackAll(nil)
		err = nil
	}
	if err != nil {
		return out, err
	}
	e.Flush() // refusals and repeated aborts are journalled before the end
	e.mu.Lock()
	e.phase = PhaseDone
	e.mu.Unlock()
	e.emit(Event{Type: EvRunEnd, Verdict: string(out.Verdict), Msg: out.Reason, Failed: out.Unreverted})
	if e.opts.Journal != nil {
		if err := e.opts.Journal.Sync(); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (e *Engine) phases(ctx context.Context) (Outcome, error) {
	e.setPhase(PhaseBaseline)
	// No one should sit through a baseline for a typo in a host name or a
	// changed host key: every member is reached once before it starts.
	if reason := e.probe(ctx); reason != "" {
		if e.aborted() {
			return Outcome{}, errAborted
		}
		e.emit(Event{Type: EvVerdict, Verdict: string(VerdictBlocked), Msg: reason})
		return Outcome{Verdict: VerdictBlocked, Reason: reason}, nil
	}
	if reason := e.checkAlerts(ctx); reason != "" && !e.opts.DryRun {
		e.emit(Event{Type: EvVerdict, Verdict: string(VerdictBlocked), Msg: reason})
		return Outcome{Verdict: VerdictBlocked, Reason: reason}, nil
	}
	if e.opts.DryRun {
		// A dry run shows what would run; it touches nothing, so there is
		// no steady state to protect and no reason to wait for one.
		e.emit(Event{Type: EvNote, Source: "dry run", Msg: "dry run: the baseline is not measured"})
	} else if blocked, reason := e.baseline(ctx); blocked {
		if e.aborted() {
			return Outcome{}, errAborted
		}
		e.emit(Event{Type: EvVerdict, Verdict: string(VerdictBlocked), Msg: reason})
		return Outcome{Verdict: VerdictBlocked, Reason: reason}, nil
	}
	if e.aborted() {
		return Outcome{}, errAborted
	}

	e.setPhase(PhaseHypothesis)
	e.hypothesis()
	if err := e.waitFor(ctx, IntentNext, e.opts.AutoAdvance); err != nil {
		return Outcome{}, err
	}

	e.setPhase(PhaseBlastRadius)
	stopPolling := e.pollWhile(ctx)
	plan, err := e.blastRadius(ctx)
	stopPolling()
	if err != nil {
		if e.aborted() {
			return Outcome{}, errAborted
		}
		e.emit(Event{Type: EvVerdict, Verdict: string(VerdictAborted), Msg: err.Error()})
		return Outcome{Verdict: VerdictAborted, Reason: err.Error()}, nil
	}
	if e.opts.DryRun {
		e.emit(Event{Type: EvVerdict, Verdict: string(VerdictNone), Msg: "dry run: nothing was injected"})
		return Outcome{Reason: "dry run"}, nil
	}
	if err := e.waitFor(ctx, IntentConfirm, e.opts.AutoConfirm); err != nil {
		return Outcome{}, err
	}
	var members []targets.Member
	for _, p := range plan {
		members = append(members, p.inj.Member)
	}
	e.emit(Event{Type: EvConfirmed, Members: members, Msg: fmt.Sprintf("%d injection(s) confirmed", len(plan))})

	e.setPhase(PhaseRun)
	if err := e.run(ctx, plan); err != nil {
		return Outcome{}, err
	}
	if err := e.awaitAlerts(ctx); err != nil {
		return Outcome{}, err
	}

	e.setPhase(PhaseConclude)
	out := e.conclude()
	// The verdict stands even if conclude is cut short: every attack was
	// rolled back before it.
	_ = e.waitFor(ctx, IntentNext, e.opts.AutoAdvance)
	return out, nil
}

// waitFor blocks until the intent arrives (notes are journalled meanwhile),
// or returns at once when auto is set.
func (e *Engine) waitFor(ctx context.Context, want IntentType, auto bool) error {
	// The charts stay live while the room talks: metrics are polled as in
	// any other wait, so a pause for a key is never mistaken for a blind
	// metrics source.
	var tick <-chan time.Time
	for {
		i, took := e.drainNotes()
		if e.aborted() {
			return errAborted
		}
		if auto {
			return nil
		}
		if !took {
			if tick == nil {
				tick = e.opts.Clock.After(e.rb.Metrics.Poll)
			}
			select {
			case <-ctx.Done():
				return errAborted
			case <-tick:
				tick = nil
				e.pollMetrics(ctx)
				e.flushSamples(false)
				continue
			case i = <-e.intents:
			}
		}
		if e.aside(i) {
			continue
		}
		if i.Type == want {
			return nil
		}
		e.emit(Event{Type: EvNote, Source: i.Source, Msg: fmt.Sprintf("ignored: not expected in %s", e.Phase())})
	}
}

// drainNotes journals the notes queued so far (and takes the other
// intents aside takes). It stops at the first other
// intent and returns it, so that an intent queued right behind a note (a
// note typed, then enter) is acted on rather than lost.
func (e *Engine) drainNotes() (Intent, bool) {
	for {
		select {
		case i := <-e.intents:
			if !e.aside(i) {
				return i, true
			}
		default:
			return Intent{}, false
		}
	}
}

func (e *Engine) note(i Intent) { e.emit(e.noteEvent(i)) }

func (e *Engine) noteEvent(i Intent) Event {
	kind := i.Kind
	if kind == "" {
		kind = "note"
	}
	return Event{Type: EvNote, Msg: i.Text, Author: i.Author, Kind: kind, Time: i.At.UTC()}
}

// sleep waits d on the engine clock while polling metrics and evaluating
// guardrails when guard is set. It returns errAborted on abort.
func (e *Engine) sleep(ctx context.Context, until time.Time, guard bool) error {
	interval := e.rb.Metrics.Poll
	for {
		if i, took := e.drainNotes(); took {
			e.emit(Event{Type: EvNote, Source: i.Source, Msg: fmt.Sprintf("ignored: not expected in %s", e.Phase())})
		}
		if e.aborted() {
			return errAborted
		}
		now := e.opts.Clock.Now()
		if !now.Before(until) {
			return nil
		}
		e.pollMetrics(ctx)
		if guard {
			e.flushSamples(false)
			if reason := e.guardrails(); reason != "" {
				e.deliver(Intent{Type: IntentAbort, Source: "guardrail", Text: reason})
				return errAborted
			}
		}
		wait := min(interval, until.Sub(now))
		select {
		case <-ctx.Done():
			return errAborted
		case <-e.opts.Clock.After(wait):
		}
	}
}

func (e *Engine) pollMetrics(ctx context.Context) {
	if e.opts.Metrics == nil {
		return
	}
	if err := e.opts.Metrics.Poll(ctx); err != nil && !e.aborted() {
		e.emit(Event{Type: EvMetricsError, Msg: err.Error()})
	}
	e.pollAlerts(ctx)
	e.publishLive()
}

// Package ui is the game-day console: a Bubble Tea program that renders what
// the engine reports and sends the engine intents, nothing else. It never
// calls a host, a cloud API or Prometheus itself: engine events arrive through
// OnEvent, metric points are read from the engine's Observer in commands off
// the update loop, and every key becomes an intent through a pure mapping
// (package keys).
package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"golang.org/x/sys/unix"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
)

// Config is what the console shows and where.
type Config struct {
	Runbook *runbook.Runbook
	File    string            // runbook path for the header
	RunDir  string            // run directory, for export/report hints
	Metrics gamedays.Observer // may be nil
	Version string
	// Input/Output for tests; nil = stdin/stdout.
	Input  io.Reader
	Output io.Writer
	// Author names the local user in notes and aborts; default $USER (see
	// localUser).
	Author string
	// Join is how participants join ("ssh -p 2222 10.0.0.5") and HostKey
	// the server's host-key fingerprint, which they check on first
	// connect: the facilitator's console shows both, since what was
	// printed before the console took the screen is hidden until it ends.
	Join, HostKey string
	// Shared: participants join over SSH (gameday serve), so the header
	// lists the roles and who is connected.
	Shared bool
	// Drill: the game day is a drill; the drill keys and timings apply.
	Drill bool
	// Remaining, when set, is asked once, off the update loop, for the
	// share of the SLO's error budget still left (0..1), to price the blast
	// radius; without it the whole budget is assumed left.
	Remaining func(context.Context) (float64, error)
}

// Sender is where the console sends intents; *gamedays.Engine is one. It
// decides who may do what (gamedays.Permit) and says why it refused.
type Sender interface {
	Send(gamedays.Actor, gamedays.Intent) error
}

// Console is one game day's console.
type Console struct {
	cfg   Config
	q     *queue
	clock func() time.Time
	stop  chan struct{}
	once  sync.Once

	// Participants' consoles each have their own queue; history replays
	// what came before to a late joiner.
	mu      sync.Mutex
	history history
	joined  map[*queue]bool

	remOnce sync.Once
	remLeft float64
	remErr  error
}

// New prepares a console. Set gamedays.Options.OnEvent = c.OnEvent before
// building the engine so that no event is missed.
func New(cfg Config) *Console {
	return &Console{cfg: cfg, q: newQueue(), clock: time.Now, stop: make(chan struct{})}
}

// OnEvent takes an engine event. It is safe from any goroutine, never
// blocks and never drops an event: events wait in an unbounded queue that
// the console drains at every frame.
func (c *Console) OnEvent(ev gamedays.Event) {
	c.q.push(ev)
	// Samples are read from the Observer, never from events; keeping them
	// would only grow the history.
	if ev.Type == gamedays.EvSample {
		return
	}
	c.mu.Lock()
	c.history.add(ev)
	for q := range c.joined {
		q.push(ev)
	}
	c.mu.Unlock()
}

// engineResult is how the engine's Run ended; set once before done closes.
type engineResult struct {
	done chan struct{}
	out  gamedays.Outcome
	err  error
}

// Run shows the console, runs eng.Run(ctx) on its own goroutine, and returns
// when the game day has ended and the user leaves (q on the conclude
// screen), or after abort and rollback when Ctrl-C was pressed. Whatever
// happens to the terminal, Run returns only after the engine has: if the
// console fails, it aborts the game day and waits for the rollback.
func (c *Console) Run(ctx context.Context, eng *gamedays.Engine) (gamedays.Outcome, error) {
	res := &engineResult{done: make(chan struct{})}
	go func() {
		res.out, res.err = eng.Run(ctx)
		close(res.done)
	}()
	defer c.close()

	m := c.newModel(eng, res)
	m.ctxDone = ctx.Done()
	opts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithoutSignalHandler()}
	if c.cfg.Input != nil {
		opts = append(opts, tea.WithInput(c.cfg.Input))
	}
	if c.cfg.Output != nil {
		opts = append(opts, tea.WithOutput(c.cfg.Output))
	}
	p := tea.NewProgram(m, opts...)
	// Signals belong to the console only when it owns the process's own
	// terminal; a console served over SSH must not take them.
	if c.cfg.Input == nil && c.cfg.Output == nil {
		sigs := make(chan os.Signal, 4)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		defer signal.Stop(sigs)
		go func() {
			for {
				select {
				case s := <-sigs:
					p.Send(signalMsg{name: unix.SignalName(s.(syscall.Signal))})
				case <-c.stop:
					return
				}
			}
		}()
	}
	// A panic in the program is caught by Bubble Tea, which restores the
	// terminal and returns an error: the game day is then aborted below.
	_, perr := p.Run()
	select {
	case <-res.done:
	default:
		eng.Send(gamedays.Local, gamedays.Intent{Type: gamedays.IntentAbort, Source: "console closed"})
		<-res.done
	}
	if perr != nil {
		return res.out, errors.Join(res.err, fmt.Errorf("console: %w", perr))
	}
	return res.out, res.err
}

func (c *Console) close() { c.once.Do(func() { close(c.stop) }) }

// queue is an unbounded, non-blocking hand-off from the engine's goroutines
// to the update loop.
type queue struct {
	mu   sync.Mutex
	evs  []gamedays.Event
	wake chan struct{}
}

func newQueue() *queue { return &queue{wake: make(chan struct{}, 1)} }

func (q *queue) push(ev gamedays.Event) {
	q.mu.Lock()
	q.evs = append(q.evs, ev)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is already pending; it will take this event too
	}
}

func (q *queue) take() []gamedays.Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs := q.evs
	q.evs = nil
	return evs
}

// eventsMsg carries every event queued since the last one.
type eventsMsg []gamedays.Event

// listen waits for events and returns them all at once; the model re-arms
// it after each batch.
func (q *queue) listen(stop <-chan struct{}) tea.Cmd {
	return func() tea.Msg {
		for {
			select {
			case <-q.wake:
			case <-stop:
				return nil
			}
			// A wake-up can find the queue already drained by the batch
			// before it; wait for the next one.
			if evs := q.take(); len(evs) > 0 {
				return eventsMsg(evs)
			}
		}
	}
}

// history is what a participant who joins late is replayed, bounded
// whatever the length of the run: every event that sets where the game day
// stands, the first and latest event of each injection, and the most recent
// of the rest (notes, remarks, metric errors), as many as the timeline
// holds. The journal keeps everything.
type history struct {
	n      int
	sticky []stamped
	inj    map[gamedays.Key]*[4]stamped // the latest of each step's event
	recent []stamped                    // ring of maxTimeline
	start  int
	live   *stamped // only the latest judgement matters
}

// injSlot is where an injection's event goes in history.inj.
var injSlot = map[string]int{gamedays.EvAttackIntent: 0, gamedays.EvAttackResult: 1, gamedays.EvRollbackIntent: 2, gamedays.EvRollbackResult: 3}

type stamped struct {
	n  int
	ev gamedays.Event
}

func (h *history) add(ev gamedays.Event) {
	h.n++
	e := stamped{h.n, ev}
	switch {
	case ev.Type == gamedays.EvLive:
		h.live = &e
	case ev.Injection != nil && ev.Type != gamedays.EvPreflight:
		if h.inj == nil {
			h.inj = map[gamedays.Key]*[4]stamped{}
		}
		k := gamedays.KeyOf(*ev.Injection)
		steps := h.inj[k]
		if steps == nil {
			steps = &[4]stamped{}
			h.inj[k] = steps
		}
		steps[injSlot[ev.Type]] = e
	case ev.Type == gamedays.EvNote && ev.Kind == "", ev.Type == gamedays.EvNote && !stickyNote(ev.Kind),
		ev.Type == gamedays.EvMetricsError, ev.Type == gamedays.EvBlind, ev.Type == gamedays.EvGuardrail:
		if len(h.recent) < maxTimeline {
			h.recent = append(h.recent, e)
			return
		}
		h.recent[h.start] = e
		h.start = (h.start + 1) % maxTimeline
	default:
		h.sticky = append(h.sticky, e)
	}
}

// stickyNote: notes the drill timings and the roster are built from.
func stickyNote(kind string) bool {
	switch kind {
	case gamedays.NoteDetected, gamedays.NoteMitigated, gamedays.NoteHint, NoteJoined, NoteLeft:
		return true
	}
	return false
}

// events returns the history in the order it arrived.
func (h *history) events() []gamedays.Event {
	all := append([]stamped(nil), h.sticky...)
	all = append(all, h.recent...)
	for _, steps := range h.inj {
		for _, e := range steps {
			if e.n > 0 {
				all = append(all, e)
			}
		}
	}
	if h.live != nil {
		all = append(all, *h.live)
	}
	slices.SortFunc(all, func(a, b stamped) int { return a.n - b.n })
	out := make([]gamedays.Event, len(all))
	for i, e := range all {
		out[i] = e.ev
	}
	return out
}

package ui

import (
	"context"
	"errors"
	"io"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/ui/serve"
)

// Note kinds journalled when a participant's console opens and closes, so
// the report can say who was there.
const (
	NoteJoined = gamedays.NoteJoined
	NoteLeft   = gamedays.NoteLeft
)

// JoinOptions is one participant's terminal, as `gameday serve` hands it
// over.
type JoinOptions struct {
	Who serve.Who
	// Send delivers an intent to the engine as Who, which checks it against
	// Who's role and says why it refused.
	Send func(gamedays.Intent) error
	// Term is the terminal type from the pty request; it picks the colours.
	Term          string
	Width, Height int
	Resize        <-chan [2]int
	Input         io.Reader
	// Output is the participant's screen. A writer with OnDrop (such as
	// *serve.FrameWriter) gets a full repaint after frames were dropped.
	Output io.Writer
}

// repaintMsg asks for a full repaint: frames were dropped on the way to a
// slow terminal, so what it shows is no longer what the renderer thinks.
type repaintMsg struct{}

// Join runs one participant's own console (see Participant) until ctx ends
// or they leave, sending it o.Width×o.Height and then each size on
// o.Resize: what the SSH server's Bubble Tea middleware does for a session.
func (c *Console) Join(ctx context.Context, o JoinOptions) error {
	p, done, err := c.Participant(o)
	if err != nil {
		return err
	}
	defer done()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		// The renderer learns the width from this message; an SSH pty is
		// no terminal of ours to ask. Sent here, before any resize, so the
		// latest size wins.
		if o.Width > 0 && o.Height > 0 {
			p.Send(tea.WindowSizeMsg{Width: o.Width, Height: o.Height})
		}
		for {
			select {
			case sz, ok := <-o.Resize:
				if !ok {
					return
				}
				p.Send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			case <-ctx.Done():
				p.Quit()
				return
			case <-stop:
				return
			}
		}
	}()
	_, err = p.Run()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Participant builds one participant's own console over the same events as
// the facilitator's; the caller runs the program, sends it the terminal's
// sizes, and calls done once it has ended. They leave with q or ctrl+c, which for a participant only
// disconnects. Events reach it through its own queue, history first: a slow
// or vanished participant never holds up OnEvent, the facilitator's console
// or the engine. Every intent is checked by the engine (gamedays.Permit); a refused key
// shows why in that console only.
func (c *Console) Participant(o JoinOptions) (p *tea.Program, done func(), err error) {
	if o.Send == nil || o.Input == nil || o.Output == nil {
		return nil, nil, errors.New("ui: join needs Send, Input and Output")
	}
	q := newQueue()
	stop := make(chan struct{})
	c.mu.Lock()
	for _, ev := range c.history.events() {
		q.push(ev)
	}
	if c.joined == nil {
		c.joined = map[*queue]bool{}
	}
	c.joined[q] = true
	c.mu.Unlock()

	who := o.Who
	_ = o.Send(gamedays.Intent{Type: gamedays.IntentNote, Kind: NoteJoined, Author: who.Name, Text: who.Role, Source: "serve"})
	m := c.guestModel(o, q, stop)
	p = tea.NewProgram(m, tea.WithInput(o.Input), tea.WithOutput(o.Output), tea.WithAltScreen(),
		tea.WithoutSignalHandler())
	d, hasDrop := o.Output.(interface{ OnDrop(func()) })
	if hasDrop {
		d.OnDrop(func() { p.Send(repaintMsg{}) })
	}
	done = func() {
		if hasDrop {
			d.OnDrop(nil)
		}
		close(stop)
		c.mu.Lock()
		delete(c.joined, q)
		c.mu.Unlock()
		_ = o.Send(gamedays.Intent{Type: gamedays.IntentNote, Kind: NoteLeft, Author: who.Name, Text: who.Role, Source: "serve"})
	}
	return p, done, nil
}

// guestModel is the root model of a participant's console, reading events
// from q: their role decides what it shows (a responder's is redacted) and
// which keys it offers.
func (c *Console) guestModel(o JoinOptions, q *queue, stop <-chan struct{}) *model {
	who := o.Who
	cfg := c.cfg
	// A participant's console writes no report: it has no run directory.
	cfg.Input, cfg.Output, cfg.Author, cfg.RunDir = o.Input, o.Output, who.Name, ""
	redact := who.Role == runbook.RoleResponder
	if redact {
		// The file name says which scenario this is.
		cfg.File = ""
		if cfg.Runbook != nil {
			cfg.Runbook = redactRunbook(cfg.Runbook)
		}
	}
	r := lipgloss.NewRenderer(o.Output)
	r.SetColorProfile(profileFor(o.Term))
	r.SetHasDarkBackground(true)
	m := c.buildModel(cfg, r, q, stop, nil, nil)
	m.redact = redact
	m.run.redacted = redact
	// A responder is not told when the fault landed, so their console
	// cannot call their marks early; the journal still does.
	m.run.Drill.Unseen = redact
	// The engine decides (gamedays.Permit) and journals a refusal; the
	// console shows why.
	m.guest = &guest{who: who, send: o.Send}
	m.participant = &who
	// The roles line a participant sees takes a row from every screen.
	size := tea.WindowSizeMsg{Width: m.width, Height: m.height}
	if o.Width > 0 && o.Height > 0 {
		size = tea.WindowSizeMsg{Width: o.Width, Height: o.Height}
	}
	m.handleSize(size)
	return m
}

// Sessions is serve.Options.Console for this console: each session runs
// its participant's own console (see Participant), whose intents go to eng
// as the session's participant; eng decides what their role allows.
func (c *Console) Sessions(eng Sender) func(*serve.Session) (*tea.Program, func(), error) {
	return func(s *serve.Session) (*tea.Program, func(), error) {
		who := gamedays.Actor(s.Who)
		return c.Participant(JoinOptions{Who: s.Who, Term: s.Term, Width: s.Width, Height: s.Height,
			Input: s.In, Output: s.Out, Send: func(i gamedays.Intent) error { return eng.Send(who, i) }})
	}
}

// profileFor picks colours from the terminal type: the participant's
// terminal cannot be asked from here.
func profileFor(term string) termenv.Profile {
	switch {
	case term == "" || term == "dumb":
		return termenv.Ascii
	case strings.Contains(term, "truecolor") || strings.Contains(term, "direct"):
		return termenv.TrueColor
	case strings.Contains(term, "256"):
		return termenv.ANSI256
	}
	return termenv.ANSI
}

// redactRunbook is the runbook as a responder may see it: the metrics,
// phases and the limits expected, but no name, statement, notes, attack or
// target, which would give the fault away.
func redactRunbook(rb *runbook.Runbook) *runbook.Runbook {
	cp := *rb
	cp.Name, cp.Description, cp.Notes, cp.Tags = "drill", "", "", nil
	cp.Hypothesis.Statement = hiddenStatement
	cp.Attacks, cp.Targets, cp.BlastRadius = nil, nil, nil
	return &cp
}

const hiddenStatement = "hidden in a drill: the facilitator knows what is expected"

// redactEvent hides from a responder what was injected, where and when:
// attacks, targets, members, plans and the engine's own remarks, which
// name them. It returns false for events they should not see at all.
func redactEvent(ev gamedays.Event) (gamedays.Event, bool) {
	switch ev.Type {
	case gamedays.EvResolved, gamedays.EvSelected, gamedays.EvPreflight, gamedays.EvStagePlan,
		gamedays.EvAttackIntent, gamedays.EvAttackResult, gamedays.EvRollbackIntent, gamedays.EvRollbackResult:
		return ev, false
	case gamedays.EvStageStart, gamedays.EvStageResult, gamedays.EvStageAsk, gamedays.EvStageConfirm, gamedays.EvConfirmEach:
		return ev, false // their words name the stage's members and magnitude
	case gamedays.EvNote:
		// A prediction says where the fault is expected to show.
		return ev, ev.Kind != "" && ev.Kind != "prediction"
	case gamedays.EvRunStart:
		ev.RunID, ev.Msg, ev.File = "", "drill", ""
	case gamedays.EvHypothesis:
		ev.Msg = hiddenStatement
	case gamedays.EvConfirmed:
		ev.Msg = "the facilitator confirmed the blast radius"
	case gamedays.EvAbort:
		ev.Msg = "rolling back"
	}
	ev.Runbook, ev.Target, ev.Members, ev.Injection, ev.Result, ev.Plan, ev.Failed = "", "", nil, nil, nil, nil, nil
	ev.StagePlan = nil // a stage's members and magnitude
	return ev, true
}

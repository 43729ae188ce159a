package ui

import (
	"os"
	"os/user"
	"slices"
	"strconv"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/gamedays/report"
	"github.com/gameday/gameday/ui/keys"
	"github.com/gameday/gameday/ui/serve"
	"github.com/gameday/gameday/ui/styles"
)

// Smallest terminal the console lays out; below it a notice is shown (and
// abort still works).
const minWidth, minHeight = 80, 24

// model is the root Bubble Tea model: it routes each message to the
// component it is for and lays the frame out around the active one.
type model struct {
	inFrame  bool     // View is drawing a frame
	frameTop []string // the frame's topLines, once built
	page              // the whole terminal

	sender Sender
	events *queue // the engine's events for this console
	stop   <-chan struct{}
	clock  func() time.Time
	engine *engineResult // nil when driven without an engine (tests)

	// The components: a screen per phase, the overlays over them, and the
	// footer's key help.
	screens  [gamedays.PhaseDone + 1]component // by phase; run and observe share one
	note     *noteInput
	timeline *timelineOverlay
	keyHelp  *helpOverlay
	modal    keys.Modal // which overlay is open
	footHelp help.Model
	charts   map[string]*panelChart

	flash string // the status line, until the next key
	gen   int    // of the refresh chain; a tick of an older one is dropped

	exporting    bool
	writeReport  func(runDir string) ([]string, error) // report.WriteAll; tests replace it
	abortSent    bool
	quitAfterEnd bool            // ctrl+c or a signal: leave once the rollback is done
	leaveAtEnd   bool            // q on conclude: leave once the engine has finished
	finished     bool            // the engine's Run has returned (or run.end was seen)
	ctxDone      <-chan struct{} // the caller's context; nil in tests without one

	// guest is the participant who joined over SSH, nil at the
	// facilitator's own terminal.
	guest *guest
}

// guest is a participant at their own console: every intent goes to the
// engine as them, and the engine decides what their role allows; q and
// ctrl+c only leave.
type guest struct {
	who  serve.Who
	send func(gamedays.Intent) error
}

// mayWrite refuses, before any typing, a note the guest's role may not
// write (the engine would refuse it anyway).
func (m *model) mayWrite(kind string) bool {
	if m.guest == nil {
		return true
	}
	if err := gamedays.Permit(gamedays.Actor(m.guest.who), gamedays.Intent{Type: gamedays.IntentNote, Kind: kind}); err != nil {
		m.flash = "refused: " + err.Error()
		return false
	}
	return true
}

// newModel builds the facilitator's root model for a sender; res is nil in
// tests that drive the model without an engine.
func (c *Console) newModel(sender Sender, res *engineResult) *model {
	r := lipgloss.DefaultRenderer()
	if c.cfg.Output != nil {
		r = lipgloss.NewRenderer(c.cfg.Output)
	}
	return c.buildModel(c.cfg, r, c.q, c.stop, sender, res)
}

// buildModel builds a root model drawing with r and fed from q.
func (c *Console) buildModel(cfg Config, r *lipgloss.Renderer, q *queue, stop <-chan struct{}, sender Sender, res *engineResult) *model {
	_, noColor := os.LookupEnv("NO_COLOR")
	km := keys.Default()
	st := styles.New(r, styles.DefaultTheme(), noColor)
	author := cfg.Author
	if author == "" {
		author = localUser()
	}
	m := &model{
		page: page{common: &common{cfg: cfg, keys: km, styles: st, run: newRunState(cfg.Runbook), metrics: &refreshMsg{},
			hidden: map[string]bool{}, author: author}},
		sender: sender, events: q, stop: stop, clock: c.clock, engine: res,
		footHelp: newHelp(st), charts: map[string]*panelChart{},
		writeReport: func(dir string) ([]string, error) { return report.WriteAll(dir, nil) },
	}
	m.now = c.clock()
	m.out = m
	m.screens = newScreens(m.common, c.remaining)
	m.note, m.timeline = newNoteInput(m.common), newTimelineOverlay(m.common)
	m.keyHelp = &helpOverlay{page: page{common: m.common}, help: newHelp(st)}
	// A terminal reports its size at once; an output that is not one (a
	// pipe, a test) gets the smallest supported size until told otherwise.
	m.handleSize(tea.WindowSizeMsg{Width: minWidth, Height: minHeight})
	return m
}

// Init starts listening for events, the engine's end and the clock.
func (m *model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.events.listen(m.stop), m.refreshNow()}
	if m.ctxDone != nil {
		ctxDone, stop := m.ctxDone, m.stop
		cmds = append(cmds, func() tea.Msg {
			select {
			case <-ctxDone:
				return ctxDoneMsg{}
			case <-stop:
				return nil
			}
		})
	}
	if m.engine != nil {
		res, stop := m.engine, m.stop
		cmds = append(cmds, func() tea.Msg {
			select {
			case <-res.done:
				return engineDoneMsg{err: res.err}
			case <-stop:
				return nil
			}
		})
	}
	return tea.Batch(cmds...)
}

// engineDoneMsg: the engine's Run has returned; err is its error, if any.
type engineDoneMsg struct{ err error }

// ctxDoneMsg: the caller cancelled the game day; the engine aborts on its
// own, and the console leaves once the rollback is done.
type ctxDoneMsg struct{}

// signalMsg: the process got SIGINT, SIGTERM or SIGHUP; like ctrl+c, it
// aborts and the console leaves once the rollback is done.
type signalMsg struct{ name string }

// Update routes a message to the handler for its kind.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		return m, m.handleSize(msg)
	case tea.KeyMsg:
		return m, m.handleKey(msg)
	case eventsMsg:
		return m, m.handleEvents(msg)
	case tickMsg:
		if msg.gen != m.gen {
			return m, nil // superseded by a resize
		}
		return m, m.refreshCmd()
	case refreshMsg:
		return m, m.handleRefresh(msg)
	case engineDoneMsg:
		m.finished = true
		if msg.err != nil {
			m.flash = "the engine stopped with an error: " + msg.err.Error()
		}
		return m, m.maybeQuit()
	case ctxDoneMsg:
		m.quitAfterEnd = true
		return m, m.maybeQuit()
	case reportMsg:
		m.exporting = false
		switch {
		case msg.err != nil && len(msg.files) > 0:
			// A PDF that could not be printed leaves the other formats written.
			// The path comes whole; what did not fit of the error is in
			// the journal's directory to see.
			m.flash = reportWritten(msg.files, m.width) + "; but " + msg.err.Error()
		case msg.err != nil:
			m.flash = "report failed: " + msg.err.Error()
		default:
			m.flash = reportWritten(msg.files, m.width)
		}
		return m, nil
	case repaintMsg:
		return m, tea.ClearScreen
	case budgetMsg:
		return m, m.screens[gamedays.PhaseBlastRadius].Update(msg)
	case signalMsg:
		m.quitAfterEnd = true
		m.abort(msg.name)
		return m, m.maybeQuit()
	}
	if m.modal == keys.ModalNote {
		return m, m.note.Update(msg)
	}
	return m, nil
}

func (m *model) handleSize(msg tea.WindowSizeMsg) tea.Cmd {
	m.width, m.height = max(0, msg.Width), max(0, msg.Height)
	m.footHelp.Width = m.width
	for _, c := range m.components() {
		c.SetSize(m.width, m.bodyHeight())
	}
	m.layoutCharts()
	// Redraw at the new size now rather than at the next tick.
	return m.refreshNow()
}

// refreshNow starts a new refresh chain, dropping any tick in flight.
func (m *model) refreshNow() tea.Cmd {
	m.gen++
	return m.refreshCmd()
}

func (m *model) refreshCmd() tea.Cmd { return refresh(m.refreshReq()) }

func (m *model) refreshReq() refreshReq {
	s := m.run
	r := refreshReq{gen: m.gen, obs: m.cfg.Metrics, rb: m.cfg.Runbook, clock: m.clock, cols: m.chartColumns(), start: s.Start,
		plan: plan{baselineAt: s.PhaseAt[gamedays.PhaseBaseline], runAt: s.PhaseAt[gamedays.PhaseRun]}}
	if rb := m.cfg.Runbook; rb != nil {
		r.plan.baseline, r.plan.observe = rb.Baseline.Duration, rb.Observe.Duration
	}
	return r
}

func (m *model) handleRefresh(msg refreshMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	m.now = msg.now
	m.metrics = &msg
	for _, p := range msg.panels {
		for _, sd := range p.series {
			if !slices.Contains(m.series, sd.name) {
				m.series = append(m.series, sd.name)
			}
		}
	}
	m.drawCharts()
	return tick(m.gen, m.stop)
}

func (m *model) handleEvents(evs eventsMsg) tea.Cmd {
	before, started := m.run.Phase, !m.run.Start.IsZero()
	for _, ev := range evs {
		if m.redact {
			var keep bool
			if ev, keep = redactEvent(ev); !keep {
				continue
			}
		}
		m.run.apply(ev)
		if ev.Type == gamedays.EvRunEnd {
			m.finished = m.finished || m.engine == nil
			// "ABORT sent" is stale once the rollback has answered; the
			// abort screen says how it went.
			if m.abortSent {
				m.flash = ""
			}
		}
	}
	if m.modal == keys.ModalTimeline {
		m.timeline.sync(false)
	}
	cmds := []tea.Cmd{m.events.listen(m.stop)}
	// A new phase changes the screen and what the refresh evaluates; the
	// run's start fixes the charts' time window.
	if m.run.Phase != before || (!started && !m.run.Start.IsZero()) {
		m.modalForPhase()
		m.layoutCharts()
		cmds = append(cmds, m.refreshNow())
		if s := m.screen(); s != nil {
			cmds = append(cmds, s.Update(shownMsg{}))
		}
	}
	cmds = append(cmds, m.maybeQuit())
	return tea.Batch(cmds...)
}

// modalForPhase closes what an abort makes irrelevant, so the room sees the
// rollback at once.
func (m *model) modalForPhase() {
	if m.run.Phase == gamedays.PhaseAborted && (m.modal == keys.ModalTimeline || m.modal == keys.ModalHelp) {
		m.modal = keys.ModalNone
	}
}

// maybeQuit ends the program once the engine is done and someone asked to
// leave (q, ctrl+c, a signal).
func (m *model) maybeQuit() tea.Cmd {
	done := m.finished || (m.engine == nil && m.run.Ended)
	if done && (m.quitAfterEnd || m.leaveAtEnd) {
		return tea.Quit
	}
	return nil
}

func (m *model) keyContext() keys.Context {
	s := m.run
	return keys.Context{Phase: s.Phase, Modal: m.modal, Ended: s.Ended || m.finished,
		CanConfirm: s.canConfirm(), Charts: m.showsCharts(), CanExport: m.canExport(), Drill: m.cfg.Drill,
		Staged: s.staged() && !s.redacted, ConfirmEach: s.ConfirmEach, StageAsk: s.AskStage > 0,
		Members: m.memberTable() != nil}
}

// memberTable is the scroll of the phase screen's member table, if it has
// one on show: not while a drill's responders are kept from the attacks.
func (m *model) memberTable() *memberScroll {
	s, ok := m.screen().(scrolls)
	if !ok || m.redact {
		return nil
	}
	return s.scroller()
}

// canExport: the engine has returned, so its journal is complete and on
// disk, and there is a run directory to read it from and write to.
func (m *model) canExport() bool {
	return m.cfg.RunDir != "" && m.finished && m.engine != nil && !m.exporting && m.guest == nil
}

// say puts msg on the status line until the next key.
func (m *model) say(msg string) { m.flash = msg }

// send delivers i, or shows why it was refused and returns false.
func (m *model) send(i gamedays.Intent) bool {
	if i.Type == gamedays.IntentNote && i.At.IsZero() {
		i.At = m.clock() // a drill's marks are timed by the key, not by when the engine takes them
	}
	if m.guest != nil {
		if err := m.guest.send(i); err != nil {
			m.flash = "refused: " + err.Error()
			return false
		}
		return true
	}
	if m.sender != nil {
		// The person at this terminal started gameday: the facilitator.
		actor := gamedays.Local
		actor.Name = m.author
		if err := m.sender.Send(actor, i); err != nil {
			m.flash = "refused: " + err.Error()
			return false
		}
	}
	return true
}

func (m *model) handleKey(k tea.KeyMsg) tea.Cmd {
	r := keys.Resolve(m.keys, m.keyContext(), k)
	m.flash = ""
	if m.guest != nil && (r.Action == keys.AbortQuit || r.Action == keys.Leave ||
		(m.modal == keys.ModalNone && key.Matches(k, m.keys.Leave))) {
		return tea.Quit // a participant leaves; the game day goes on
	}
	switch r.Action {
	case keys.Abort:
		m.abort("key")
	case keys.AbortQuit:
		m.quitAfterEnd = true
		m.abort("ctrl+c")
		return m.maybeQuit()
	case keys.Next, keys.Confirm, keys.ConfirmEach:
		return m.screen().Update(r)
	case keys.OpenNote:
		return m.openNote(r.Kind)
	case keys.Submit, keys.Cancel:
		cmd := m.note.Update(r)
		m.closeModal()
		return cmd
	case keys.Input:
		return m.note.Update(k)
	case keys.ScrollUp, keys.ScrollDown, keys.PageUp, keys.PageDown, keys.FilterMembers:
		if m.modal == keys.ModalTimeline {
			return m.timeline.Update(r)
		}
		if t := m.memberTable(); t != nil {
			t.update(r)
		}
	case keys.ToggleTimeline, keys.ToggleHelp:
		m.toggleOverlay(r.Action)
	case keys.ToggleSeries:
		m.toggleSeries(r.Series)
	case keys.ReleaseHint:
		m.releaseHint()
	case keys.Export:
		m.exporting = true
		m.flash = "writing the report…"
		return writeReport(m.cfg.RunDir, m.writeReport)
	case keys.Leave:
		return m.leave(r)
	case keys.None:
		m.explainUnused(k)
	}
	return nil
}

// explainUnused says why a key that looks like it should act did not: a
// lower-case y on the blast radius confirms nothing, on purpose, so it
// takes a deliberate shift.
func (m *model) explainUnused(k tea.KeyMsg) {
	if m.modal == keys.ModalNone && m.run.Phase == gamedays.PhaseBlastRadius && k.String() == "y" && !m.run.Confirmed {
		m.flash = "a lower-case y does nothing here: press Y (shift+y) to confirm the blast radius"
	}
}

// openNote opens the note input for a kind of note.
func (m *model) openNote(kind string) tea.Cmd {
	if !m.mayWrite(kind) {
		return nil
	}
	m.modal = keys.ModalNote
	return m.note.open(kind)
}

// toggleOverlay opens or closes the timeline or the key help.
func (m *model) toggleOverlay(a keys.Action) {
	want := keys.ModalHelp
	if a == keys.ToggleTimeline {
		want = keys.ModalTimeline
	}
	if m.modal == want {
		m.modal = keys.ModalNone
		return
	}
	m.modal = want
	if want == keys.ModalTimeline {
		m.timeline.sync(true)
	}
}

// toggleSeries shows or hides the n-th series seen (0-based) on every chart.
func (m *model) toggleSeries(n int) {
	if n < len(m.series) {
		name := m.series[n]
		m.hidden[name] = !m.hidden[name]
		m.drawCharts()
	}
}

// leave quits once the game day has ended; before that it finishes the
// game day and quits when the engine has.
func (m *model) leave(r keys.Result) tea.Cmd {
	if m.run.Ended || m.finished {
		return tea.Quit
	}
	m.leaveAtEnd = true
	if i, ok := keys.Intent(r, "", m.author); ok {
		m.send(i)
	}
	m.flash = "finishing; the console closes when the game day has ended"
	return nil
}

// abort sends the abort intent at once, in the Update that saw the key.
// A note being typed is saved first so nothing the room wrote is lost.
func (m *model) abort(source string) {
	if m.run.Ended || m.finished {
		m.flash = "the game day is over; nothing to abort"
		return
	}
	if m.modal == keys.ModalNote {
		if i, ok := m.note.intent(); ok {
			m.send(i)
		}
	}
	m.closeModal()
	if !m.send(gamedays.Intent{Type: gamedays.IntentAbort, Source: source, Author: m.author}) {
		return
	}
	if m.abortSent {
		m.flash = "abort already under way; the rollback continues and cannot be skipped"
	} else {
		m.flash = "ABORT sent: stopping and rolling everything back"
	}
	m.abortSent = true
}

func (m *model) closeModal() {
	if m.modal == keys.ModalNote {
		m.note.close()
	}
	m.modal = keys.ModalNone
}

// reportMsg is the outcome of writing the report.
type reportMsg struct {
	files []string
	err   error
}

// writeReport builds the report from the journal in a command: it reads
// and writes files, which Update must never do.
func writeReport(runDir string, write func(string) ([]string, error)) tea.Cmd {
	return func() tea.Msg {
		files, err := write(runDir)
		return reportMsg{files: files, err: err}
	}
}

// localUser names whoever runs this console, for the notes and marks they
// write: $USER or $LOGNAME, else the account's name (a service, a
// container), else its uid, so no mark reads "by someone".
func localUser() string {
	for _, env := range []string{"USER", "LOGNAME"} {
		if name := os.Getenv(env); name != "" {
			return name
		}
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "uid " + strconv.Itoa(os.Getuid()) // an account with no passwd entry
}

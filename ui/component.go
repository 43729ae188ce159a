package ui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/ui/keys"
)

// component is one part of the console: the screen of a phase, or an
// overlay (the note being typed, the timeline, the key help). The root
// model routes to the active one the messages meant for it, sizes it, puts
// its rows in the frame and its keys in the footer.
type component interface {
	// Update takes a message meant for the component: a key the keymap
	// resolved for it (a keys.Result), or a message of its own.
	Update(msg tea.Msg) tea.Cmd
	// View is the component's rows, top first. A row may still hold a line
	// break a host wrote; the frame folds it into one terminal row.
	View() []string
	// SetSize is the room the component has: the terminal's width and the
	// rows of the body.
	SetSize(width, height int)
	// ShortHelp is the component's keys that matter now, for the footer.
	ShortHelp() []key.Binding
}

// page is what every component is built on: the console's common context
// and the component's own size.
type page struct {
	*common
	width, height int
}

// Update: a page with no keys or messages of its own (the baseline, the
// attacks, the rollback, the key help) takes none; abort, notes and the
// drill's keys are the root model's, on every screen.
func (p *page) Update(tea.Msg) tea.Cmd { return nil }

// advancing is a screen where enter moves the game day on.
type advancing struct{ page }

// Update sends the next-phase intent on enter.
func (a *advancing) Update(msg tea.Msg) tea.Cmd {
	a.sendOn(msg, keys.Next)
	return nil
}

// SetSize keeps the room the component has.
func (p *page) SetSize(width, height int) { p.width, p.height = max(0, width), max(0, height) }

// newScreens builds the screen of every phase over one common context.
func newScreens(c *common, remaining func() (float64, error)) [gamedays.PhaseDone + 1]component {
	var s [gamedays.PhaseDone + 1]component
	conclude := &concludeScreen{advancing{page{common: c}}}
	s[gamedays.PhaseBaseline] = &baselineScreen{page{common: c}}
	s[gamedays.PhaseHypothesis] = &hypothesisScreen{advancing{page{common: c}}}
	attacks := &attacksScreen{page: page{common: c}}
	s[gamedays.PhaseRun], s[gamedays.PhaseObserve] = attacks, attacks
	s[gamedays.PhaseAborted] = &abortScreen{page: page{common: c}}
	s[gamedays.PhaseBlastRadius] = &blastScreen{page: page{common: c}, remaining: remaining}
	s[gamedays.PhaseConclude], s[gamedays.PhaseDone] = conclude, conclude
	return s
}

// screen is the component of the current phase.
func (m *model) screen() component {
	if p := m.run.Phase; p >= 0 && int(p) < len(m.screens) {
		return m.screens[p]
	}
	return nil
}

// components is every component, to be sized together.
func (m *model) components() []component {
	out := []component{m.note, m.timeline, m.keyHelp}
	for _, s := range m.screens {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// ShortHelp is the footer's keys: the open overlay's, or those of the
// phase's screen with the keys of every screen, most important first.
// Abort is left out: the footer always shows it on its own.
func (m *model) ShortHelp() []key.Binding {
	km := m.keys
	switch m.modal {
	case keys.ModalNote:
		return m.note.ShortHelp()
	case keys.ModalTimeline:
		return m.timeline.ShortHelp()
	case keys.ModalHelp:
		return m.keyHelp.ShortHelp()
	}
	var out []key.Binding
	switch {
	case m.run.Ended || m.finished:
		if m.canExport() {
			out = append(out, km.Export)
		}
		out = append(out, km.Finding, km.ActionItem, km.Note, withHelp(km.Leave, "leave"))
	default:
		if s := m.screen(); s != nil {
			out = append(out, s.ShortHelp()...)
		}
		if m.cfg.Drill {
			out = append(out, km.Detected, km.Mitigated, km.Hint)
		}
		out = append(out, km.Note)
	}
	if m.showsCharts() {
		out = append(out, km.Series)
	}
	return append(out, km.Timeline, km.Help)
}

// FullHelp is every key, as the key help shows them.
func (m *model) FullHelp() [][]key.Binding { return m.keyHelp.FullHelp() }

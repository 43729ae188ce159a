package ui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/gamedays"
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

// SetSize keeps the room the component has.
func (p *page) SetSize(width, height int) { p.width, p.height = max(0, width), max(0, height) }

// newScreens builds the screen of every phase over one common context.
func newScreens(c *common, remaining func() (float64, error)) [gamedays.PhaseDone + 1]component {
	var s [gamedays.PhaseDone + 1]component
	conclude := &concludeScreen{page{common: c}}
	s[gamedays.PhaseBaseline] = &baselineScreen{page{common: c}}
	s[gamedays.PhaseHypothesis] = &hypothesisScreen{page{common: c}}
	attacks := &attacksScreen{page{common: c}}
	s[gamedays.PhaseRun], s[gamedays.PhaseObserve] = attacks, attacks
	s[gamedays.PhaseAborted] = &abortScreen{page{common: c}}
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

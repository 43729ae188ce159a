// Package wizard is the short dialogue of `gameday new` on a terminal: a
// few steps (scenario, panels, hosts, blast radius), each a list to pick
// from, each showing the YAML the current choice writes. It does no I/O:
// the caller gives it the options and a pure preview function, and reads
// the choices back when the program ends.
package wizard

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// Option is one choice of a step.
type Option struct {
	Label  string
	Detail string // value, series count, address: what helps choose
}

// Step is one question.
type Step struct {
	Title string
	// Section is the runbook's top-level key the step changes; its YAML
	// is shown under the list.
	Section string
	Options []Option
	// Multi lets several options be chosen (hosts); Chosen holds them.
	// Otherwise Pick is the one chosen.
	Multi  bool
	Chosen []bool
	Pick   int
}

// Preview returns the YAML of section as the steps' current choices
// would write it, or an error when they do not fit together.
type Preview func(steps []Step, section string) (string, error)

// KeyMap is the dialogue's keys.
type KeyMap struct {
	Up, Down, Toggle, Next, Back, Quit key.Binding
}

// Keys returns the default keys.
func Keys() KeyMap {
	return KeyMap{
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Toggle: key.NewBinding(key.WithKeys(" ", "x"), key.WithHelp("space", "choose")),
		Next:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next")),
		Back:   key.NewBinding(key.WithKeys("esc", "shift+tab"), key.WithHelp("esc", "back")),
		Quit:   key.NewBinding(key.WithKeys("ctrl+c", "q"), key.WithHelp("q", "quit, write nothing")),
	}
}

// ShortHelp is the footer's keys.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Toggle, k.Next, k.Back, k.Quit}
}

// FullHelp is the same keys in one column.
func (k KeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// Model is the dialogue.
type Model struct {
	file    string
	steps   []Step
	cur     int
	cursor  int
	preview Preview
	keys    KeyMap
	help    help.Model
	width   int
	height  int
	// done: the last step was confirmed; quit: the person left.
	done, quit bool
}

// New starts the dialogue for the runbook file to be written.
func New(file string, steps []Step, preview Preview) Model {
	for i := range steps {
		if steps[i].Multi && len(steps[i].Chosen) != len(steps[i].Options) {
			steps[i].Chosen = make([]bool, len(steps[i].Options))
		}
	}
	m := Model{file: file, steps: steps, preview: preview, keys: Keys(), help: help.New(), width: 80, height: 24}
	m.cursor = m.startCursor()
	return m
}

// Init starts nothing: every answer is already at hand.
func (m Model) Init() tea.Cmd { return nil }

// Result is the steps as chosen, and whether the person confirmed them.
func (m Model) Result() ([]Step, bool) { return m.steps, m.done }

// Step is the index of the current step; len(steps) is the final review.
func (m Model) Step() int { return m.cur }

// Update handles keys and the terminal's size.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = msg.Width
	case tea.KeyMsg:
		return m.handleKey(msg)
	}
	return m, nil
}

func (m Model) handleKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	review := m.cur == len(m.steps)
	switch {
	case key.Matches(msg, m.keys.Quit):
		m.quit = true
		return m, tea.Quit
	case key.Matches(msg, m.keys.Back):
		if m.cur > 0 {
			m.cur--
			m.cursor = m.startCursor()
		}
	case review && key.Matches(msg, m.keys.Next):
		if _, err := m.preview(m.steps, ""); err == nil {
			m.done = true
			return m, tea.Quit
		}
	case review:
	case key.Matches(msg, m.keys.Up):
		m.cursor = max(0, m.cursor-1)
		m.pick()
	case key.Matches(msg, m.keys.Down):
		m.cursor = min(len(m.steps[m.cur].Options)-1, m.cursor+1)
		m.pick()
	case key.Matches(msg, m.keys.Toggle):
		if s := &m.steps[m.cur]; s.Multi && len(s.Options) > 0 {
			s.Chosen[m.cursor] = !s.Chosen[m.cursor]
		}
	case key.Matches(msg, m.keys.Next):
		if s := m.steps[m.cur]; s.Multi && !anyTrue(s.Chosen) {
			return m, nil // at least one host: a target of none cannot run
		}
		m.cur++
		m.cursor = m.startCursor()
	}
	return m, nil
}

// pick makes the cursor the choice of a single-choice step.
func (m *Model) pick() {
	if s := &m.steps[m.cur]; !s.Multi {
		s.Pick = m.cursor
	}
}

func (m Model) startCursor() int {
	if m.cur < len(m.steps) && !m.steps[m.cur].Multi {
		return m.steps[m.cur].Pick
	}
	return 0
}

func anyTrue(bs []bool) bool {
	for _, b := range bs {
		if b {
			return true
		}
	}
	return false
}

var (
	titleStyle = lipgloss.NewStyle().Bold(true)
	dimStyle   = lipgloss.NewStyle().Faint(true)
)

// View draws the current step, the YAML it writes, and the keys.
func (m Model) View() string {
	if m.done || m.quit {
		return ""
	}
	var b strings.Builder
	section := ""
	if m.cur < len(m.steps) {
		s := m.steps[m.cur]
		section = s.Section
		fmt.Fprintf(&b, "%s\n\n", titleStyle.Render(clip(fmt.Sprintf("gameday new %s · %d/%d %s", m.file, m.cur+1, len(m.steps)+1, s.Title), m.width)))
		// Keep the title and the preview on screen: show a window of the
		// options around the cursor when they do not all fit.
		first, last := 0, len(s.Options)
		if room := max(1, m.height-10); last > room {
			first = min(max(0, m.cursor-room/2), last-room)
			last = first + room
		}
		for i := first; i < last; i++ {
			o := s.Options[i]
			pointer := "  "
			if i == m.cursor {
				pointer = "> "
			}
			mark := "( )"
			if (s.Multi && s.Chosen[i]) || (!s.Multi && s.Pick == i) {
				mark = "(•)"
			}
			if s.Multi {
				mark = strings.NewReplacer("(", "[", ")", "]", "•", "x").Replace(mark)
			}
			line := pointer + mark + " " + o.Label
			if o.Detail != "" {
				line += "  " + o.Detail
			}
			b.WriteString(clip(line, m.width) + "\n")
		}
		if s.Multi && !anyTrue(s.Chosen) {
			b.WriteString(dimStyle.Render(clip("choose at least one with space", m.width)) + "\n")
		}
	} else {
		fmt.Fprintf(&b, "%s\n", titleStyle.Render(clip(fmt.Sprintf("gameday new %s · %d/%d write it?", m.file, m.cur+1, len(m.steps)+1), m.width)))
		b.WriteString(clip("enter writes "+m.file+" (never over an existing file); esc goes back", m.width) + "\n")
	}
	yaml, err := m.preview(m.steps, section)
	b.WriteString("\n" + dimStyle.Render(clip("the YAML this writes:", m.width)) + "\n")
	if err != nil {
		yaml = "cannot write this: " + err.Error()
	}
	used := strings.Count(b.String(), "\n") + 2
	lines := strings.Split(strings.TrimRight(yaml, "\n"), "\n")
	if room := max(1, m.height-used-1); len(lines) > room {
		lines = append(lines[:max(0, room-1)], fmt.Sprintf("… %d more lines", len(lines)-max(0, room-1)))
	}
	for _, l := range lines {
		b.WriteString(clip(l, m.width) + "\n")
	}
	b.WriteString("\n" + m.help.View(m.keys))
	return b.String()
}

// clip cuts a line to the terminal's width so nothing wraps.
func clip(s string, width int) string {
	if width <= 0 || lipgloss.Width(s) <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && lipgloss.Width(string(r)) > max(0, width-1) {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

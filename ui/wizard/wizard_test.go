package wizard

import (
	"errors"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

func steps() []Step {
	return []Step{
		{Title: "one", Section: "a", Options: []Option{{Label: "x"}, {Label: "y", Detail: "a long detail that will not fit a narrow terminal"}}},
		{Title: "hosts", Section: "b", Multi: true, Options: []Option{{Label: "h1"}, {Label: "h2"}}},
	}
}

func press(m tea.Model, k tea.KeyMsg) tea.Model {
	m, _ = m.Update(k)
	return m
}

// Narrow and tiny terminals never panic, and lines never wrap.
func TestViewFitsAnySize(t *testing.T) {
	preview := func([]Step, string) (string, error) { return strings.Repeat("line\n", 40), nil }
	for _, sz := range [][2]int{{0, 0}, {1, 1}, {20, 5}, {80, 24}} {
		var m tea.Model = New("f.yaml", steps(), preview)
		m = press(m, tea.KeyMsg{Type: tea.KeyDown})
		m, _ = m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		for _, l := range strings.Split(m.View(), "\n") {
			if sz[0] > 1 && len([]rune(l)) > sz[0] && !strings.Contains(l, "•") {
				t.Errorf("%dx%d: line wider than the terminal: %q", sz[0], sz[1], l)
			}
		}
	}
}

// A multi-choice step needs one choice; a preview error blocks writing.
func TestNeedsAChoiceAndAFittingRunbook(t *testing.T) {
	fits := true
	preview := func([]Step, string) (string, error) {
		if !fits {
			return "", errors.New("scenario does not fit")
		}
		return "ok", nil
	}
	var m tea.Model = New("f.yaml", steps(), preview)
	m = press(m, tea.KeyMsg{Type: tea.KeyEnter})
	if m.(Model).Step() != 1 {
		t.Fatalf("step %d after enter", m.(Model).Step())
	}
	m = press(m, tea.KeyMsg{Type: tea.KeyEnter})
	if m.(Model).Step() != 1 || !strings.Contains(m.View(), "choose at least one") {
		t.Fatalf("moved on with no host chosen: step %d", m.(Model).Step())
	}
	m = press(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(" ")})
	m = press(m, tea.KeyMsg{Type: tea.KeyEnter})
	fits = false
	m = press(m, tea.KeyMsg{Type: tea.KeyEnter})
	if _, ok := m.(Model).Result(); ok || !strings.Contains(m.View(), "cannot write this: scenario does not fit") {
		t.Fatalf("confirmed a runbook that does not fit:\n%s", m.View())
	}
	fits = true
	m = press(m, tea.KeyMsg{Type: tea.KeyEnter})
	if s, ok := m.(Model).Result(); !ok || !s[1].Chosen[0] || s[1].Chosen[1] {
		t.Fatalf("result %v %v", s, ok)
	}
}

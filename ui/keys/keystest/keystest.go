// Package keystest gives tests the key messages Bubble Tea delivers for
// the key names the keymap is written in, so a test presses "ctrl+x" as
// the room does rather than building messages by hand.
package keystest

import tea "github.com/charmbracelet/bubbletea"

// Press is the message for one key: a named key the consoles bind
// (ctrl+x, ctrl+c, enter, esc, up, pgdown) or, for anything else, the
// runes typed.
func Press(s string) tea.KeyMsg {
	switch s {
	case "ctrl+x":
		return tea.KeyMsg{Type: tea.KeyCtrlX}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEscape}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

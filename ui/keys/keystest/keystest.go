// Package keystest gives tests the key messages Bubble Tea delivers for
// the key names the keymap is written in, so a test presses "ctrl+x" as
// the room does rather than building messages by hand.
package keystest

import tea "github.com/charmbracelet/bubbletea"

// Press is the message for one key: a named key the consoles bind
// (ctrl+x, ctrl+c, enter, esc, up, pgdown) or, for anything else, the
// runes typed.
func Press(s string) tea.KeyMsg {
	if k, ok := named[s]; ok {
		return tea.KeyMsg{Type: k}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

var named = map[string]tea.KeyType{
	"ctrl+x": tea.KeyCtrlX,
	"ctrl+c": tea.KeyCtrlC,
	"enter":  tea.KeyEnter,
	"esc":    tea.KeyEscape,
	"up":     tea.KeyUp,
	"pgdown": tea.KeyPgDown,
}

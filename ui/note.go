package ui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/ui/keys"
)

// noteInput is the overlay for a note being typed: a prediction, finding,
// action item, drill mark or plain note. It takes the status line, not the
// body, so the room keeps the screen in view while someone writes.
type noteInput struct {
	page
	input textinput.Model
	kind  string // what is being written, as keys.Result.Kind names it
}

func newNoteInput(c *common) *noteInput {
	in := textinput.New()
	in.CharLimit = 500
	in.Prompt = "> "
	return &noteInput{page: page{common: c}, input: in}
}

// open starts a note of kind, empty.
func (n *noteInput) open(kind string) tea.Cmd {
	n.kind = kind
	n.input.Reset()
	n.input.Placeholder = placeholder(kind)
	return n.input.Focus()
}

// close throws away what was typed.
func (n *noteInput) close() {
	n.input.Blur()
	n.input.Reset()
}

// intent is the note as typed; false when nothing was.
func (n *noteInput) intent() (gamedays.Intent, bool) {
	return keys.Intent(keys.Result{Action: keys.Submit, Kind: n.kind}, n.input.Value(), n.author)
}

// Update types a key into the note, saves it on enter (keys.Submit), and
// passes anything else (the cursor's blink) to the input.
func (n *noteInput) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case keys.Result:
		if i, ok := n.intent(); msg.Action == keys.Submit && ok && n.out.send(i) {
			n.out.say(noteName(n.kind) + " saved")
		}
		return nil
	case tea.KeyMsg:
		// Runes that arrive in one read (fast typing, a paste without
		// bracketed paste) come as one key named by the runes joined, so
		// "up" or "end" would match the input's own bindings and be lost.
		// Fed one at a time, every rune is text.
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			cmds := make([]tea.Cmd, 0, len(msg.Runes))
			for _, r := range msg.Runes {
				var cmd tea.Cmd
				n.input, cmd = n.input.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt})
				cmds = append(cmds, cmd)
			}
			return tea.Batch(cmds...)
		}
	}
	var cmd tea.Cmd
	n.input, cmd = n.input.Update(msg)
	return cmd
}

// View is the status line: what is being written, and the text so far.
func (n *noteInput) View() []string {
	return []string{n.styles.Accent.Render(noteName(n.kind)+":") + " " + n.input.View()}
}

// SetSize leaves room for the longest label before the input.
func (n *noteInput) SetSize(width, height int) {
	n.page.SetSize(width, height)
	n.input.Width = max(1, width-12)
}

// ShortHelp: save or throw away.
func (n *noteInput) ShortHelp() []key.Binding { return []key.Binding{n.keys.Submit, n.keys.Cancel} }

// placeholder is what the empty input asks for: a drill's marks are a
// moment and what was seen or done, not "a detected".
func placeholder(kind string) string {
	switch kind {
	case gamedays.NoteDetected:
		return "what did you see? enter marks the time you detected it"
	case gamedays.NoteMitigated:
		return "what did you do? enter marks the time you mitigated it"
	case gamedays.NoteHint:
		return "the hint, as the responders should read it; enter releases it"
	}
	return "type a " + noteName(kind) + ", enter saves it to the journal"
}

func noteName(kind string) string {
	switch kind {
	case "action":
		return "action item"
	case "":
		return "note"
	}
	return kind
}

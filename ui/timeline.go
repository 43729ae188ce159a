package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// timelineView is the scrollable timeline of every event and note.
func (m *model) timelineView(h int) []string {
	s := m.run
	title := m.styles.Bold.Render("Timeline") + m.styles.Muted.Render(fmt.Sprintf(" (%d entries", len(s.timeline)))
	if s.tlTotal > len(s.timeline) {
		title += m.styles.Muted.Render(fmt.Sprintf("; %d older ones are in the journal", s.tlTotal-len(s.timeline)))
	}
	title += m.styles.Muted.Render(")")
	vp := m.timeline
	vp.Height = max(0, h-1)
	vp.Width = m.width
	return append([]string{title}, strings.Split(vp.View(), "\n")...)
}

// timelineLine is one entry: its T+ time and text, coloured by level.
func (m *model) timelineLine(e entry, w int) string {
	st := m.styles
	text := e.text
	if e.count > 1 {
		text += fmt.Sprintf(" (×%d)", e.count)
	}
	var style lipgloss.Style
	switch e.level {
	case lvOK:
		style = st.OK
	case lvWarn:
		style = st.Warn
	case lvBad:
		style = st.Bad
	case lvNote:
		style = st.Accent
	default:
		style = lipgloss.NewStyle()
	}
	prefix := tplus(m.run.Elapsed(e.at)) + " "
	return st.Muted.Render(prefix) + style.Render(ansi.Truncate(text, max(0, w-len(prefix)), "…"))
}

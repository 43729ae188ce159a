package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/gameday/gameday/ui/keys"
)

// timelineOverlay is the scrollable timeline of every event and note.
type timelineOverlay struct {
	page
	view   viewport.Model
	seen   int // runState.tlTotal when the content was last built
	cache  map[int]cachedLine
	cacheW int // the width cache was rendered at
}

// cachedLine is a timeline entry rendered at the current width.
type cachedLine struct {
	count int
	line  string
}

func newTimelineOverlay(c *common) *timelineOverlay {
	return &timelineOverlay{page: page{common: c}, view: viewport.New(0, 0)}
}

// Update scrolls.
func (o *timelineOverlay) Update(msg tea.Msg) tea.Cmd {
	r, ok := msg.(keys.Result)
	if !ok {
		return nil
	}
	switch r.Action {
	case keys.ScrollUp:
		o.view.ScrollUp(1)
	case keys.ScrollDown:
		o.view.ScrollDown(1)
	case keys.PageUp:
		o.view.PageUp()
	case keys.PageDown:
		o.view.PageDown()
	}
	return nil
}

// SetSize sizes the viewport and has the content rebuilt at the new width.
func (o *timelineOverlay) SetSize(width, height int) {
	o.page.SetSize(width, height)
	o.view.Width, o.view.Height = o.width, max(1, o.height)
	o.seen = -1
}

// ShortHelp: scrolling, and t closes it again.
func (o *timelineOverlay) ShortHelp() []key.Binding {
	return []key.Binding{o.keys.Up, o.keys.Down, o.keys.PageDown, withHelp(o.keys.Timeline, "close timeline")}
}

// View is a title and as much of the timeline as fits below it.
func (o *timelineOverlay) View() []string {
	s, st := o.run, o.styles
	title := st.Bold.Render("Timeline") + st.Muted.Render(fmt.Sprintf(" (%d entries", len(s.timeline)))
	if s.tlTotal > len(s.timeline) {
		title += st.Muted.Render(fmt.Sprintf("; %d older ones are in the journal", s.tlTotal-len(s.timeline)))
	}
	title += st.Muted.Render(")")
	vp := o.view
	vp.Height = max(0, o.height-1)
	vp.Width = o.width
	return append([]string{title}, strings.Split(vp.View(), "\n")...)
}

// sync rebuilds the viewport's content when new entries arrived, keeping
// the view pinned to the newest entry if it was there; force rebuilds it
// and goes to the newest entry.
func (o *timelineOverlay) sync(force bool) {
	s := o.run
	if !force && o.seen == s.tlTotal {
		return
	}
	atBottom := o.view.AtBottom() || o.seen <= 0
	// Entries are rendered once per width; at ten events a second the
	// timeline would otherwise re-render thousands of lines per batch.
	if o.cacheW != o.width || len(o.cache) > 2*maxTimeline {
		o.cache, o.cacheW = map[int]cachedLine{}, o.width
	}
	var b strings.Builder
	s.entries(func(e entry) {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		cl, ok := o.cache[e.seq]
		if !ok || cl.count != e.count {
			cl = cachedLine{count: e.count, line: o.line(e)}
			o.cache[e.seq] = cl
		}
		b.WriteString(cl.line)
	})
	o.view.SetContent(b.String())
	if atBottom || force {
		o.view.GotoBottom()
	}
	o.seen = s.tlTotal
}

// line is one entry: its T+ time and text, coloured by level.
func (o *timelineOverlay) line(e entry) string {
	st := o.styles
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
	prefix := tplus(o.run.Elapsed(e.at)) + " "
	return st.Muted.Render(prefix) + style.Render(ansi.Truncate(text, max(0, o.width-len(prefix)), "…"))
}

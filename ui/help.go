package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"

	"github.com/gameday/gameday/ui/styles"
)

// helpOverlay is every key of the console, grouped.
type helpOverlay struct {
	page
	help help.Model
}

// newHelp is a help view in the console's styles; the footer has one too.
func newHelp(st styles.Styles) help.Model {
	h := help.New()
	h.Styles.ShortKey = st.Bold
	h.Styles.ShortDesc = st.Muted
	h.Styles.ShortSeparator = st.Muted
	h.Styles.FullKey = st.Bold
	h.Styles.FullDesc = st.Muted
	return h
}

// ShortHelp: ? closes it again.
func (o *helpOverlay) ShortHelp() []key.Binding {
	return []key.Binding{withHelp(o.keys.Help, "close help")}
}

// FullHelp is every key, in groups: the game day, notes, the timeline, the
// rest, and a drill's own.
func (o *helpOverlay) FullHelp() [][]key.Binding {
	km := o.keys
	groups := [][]key.Binding{
		{km.Abort, km.AbortQuit, km.Next, km.Confirm},
		{km.Note, km.Predict, km.Finding, km.ActionItem},
		{km.Timeline, km.Up, km.Down, km.PageUp, km.PageDown},
		{km.Series, km.Help, km.Leave, km.Export, km.Cancel},
	}
	if o.cfg.Drill {
		groups = append(groups, []key.Binding{km.Detected, km.Mitigated, km.Hint})
	}
	return groups
}

// View lists every key.
func (o *helpOverlay) View() []string {
	h := o.help
	h.ShowAll = true
	groups := o.FullHelp()
	h.Width = o.width
	out := []string{}
	if o.cfg.Join != "" && o.participant == nil {
		out = append(out, o.styles.Bold.Render("Participants join with")+"  "+o.cfg.Join)
		if o.cfg.HostKey != "" {
			out = append(out, o.wrapStyled("host key "+o.cfg.HostKey+" (what they should see on first connect)", o.styles.Muted)...)
		}
		out = append(out, "")
	}
	out = append(out, o.styles.Bold.Render("All keys"), "")
	// Two groups a row fit 80 columns; wider terminals take all four.
	per := 2
	if o.width >= 140 {
		per = len(groups)
	}
	for i := 0; i < len(groups); i += per {
		out = append(out, strings.Split(h.FullHelpView(groups[i:min(len(groups), i+per)]), "\n")...)
		out = append(out, "")
	}
	return out
}

// Package styles is the console's one semantic palette and the styles built
// from it. Colour is never the only signal: every state also has a word or a
// mark, so the console reads the same under NO_COLOR.
package styles

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/gameday/gameday/ui/chart"
)

// Theme is the semantic palette.
type Theme struct {
	Accent, Muted, OK, Warn, Bad, Text lipgloss.AdaptiveColor
	Band, Expect, Guard, Marker        lipgloss.AdaptiveColor
	Series                             [chart.Colours]lipgloss.AdaptiveColor
}

// DefaultTheme works on dark and light terminals.
func DefaultTheme() Theme {
	return Theme{
		Accent: lipgloss.AdaptiveColor{Light: "#005FAF", Dark: "#5FAFFF"},
		Muted:  lipgloss.AdaptiveColor{Light: "#6C6C6C", Dark: "#8A8A8A"},
		OK:     lipgloss.AdaptiveColor{Light: "#007A00", Dark: "#5FD75F"},
		Warn:   lipgloss.AdaptiveColor{Light: "#AF5F00", Dark: "#FFD75F"},
		Bad:    lipgloss.AdaptiveColor{Light: "#D70000", Dark: "#FF5F5F"},
		Text:   lipgloss.AdaptiveColor{Light: "#1C1C1C", Dark: "#E4E4E4"},
		Band:   lipgloss.AdaptiveColor{Light: "#A8A8A8", Dark: "#4E4E4E"},
		Expect: lipgloss.AdaptiveColor{Light: "#AF5F00", Dark: "#FFAF5F"},
		Guard:  lipgloss.AdaptiveColor{Light: "#D70000", Dark: "#FF5F5F"},
		Marker: lipgloss.AdaptiveColor{Light: "#8700AF", Dark: "#D787FF"},
		Series: [chart.Colours]lipgloss.AdaptiveColor{
			{Light: "#005FAF", Dark: "#5FAFFF"},
			{Light: "#007A00", Dark: "#87D75F"},
			{Light: "#AF00AF", Dark: "#FF87FF"},
			{Light: "#008787", Dark: "#5FD7D7"},
			{Light: "#875F00", Dark: "#D7AF5F"},
			{Light: "#5F5FAF", Dark: "#AFAFFF"},
		},
	}
}

// Styles are the console's styles, built once for one renderer.
type Styles struct {
	Title, Phase, Muted, OK, Warn, Bad, Accent, Bold lipgloss.Style
	Abort, AbortBanner, Banner, Frame, Selected      lipgloss.Style
	Series                                           [chart.Colours]lipgloss.Style
	Chart                                            chart.Palette
}

// New builds the styles for r. Under NO_COLOR the renderer is switched to
// plain ASCII output before anything is built.
func New(r *lipgloss.Renderer, t Theme, noColor bool) Styles {
	if noColor {
		r.SetColorProfile(termenv.Ascii)
	}
	fg := func(c lipgloss.AdaptiveColor) lipgloss.Style { return r.NewStyle().Foreground(c) }
	s := Styles{
		Title:       r.NewStyle().Bold(true).Foreground(t.Accent),
		Phase:       r.NewStyle().Bold(true),
		Muted:       fg(t.Muted),
		OK:          fg(t.OK),
		Warn:        fg(t.Warn).Bold(true),
		Bad:         fg(t.Bad).Bold(true),
		Accent:      fg(t.Accent),
		Bold:        r.NewStyle().Bold(true),
		Abort:       r.NewStyle().Bold(true).Foreground(t.Bad),
		AbortBanner: r.NewStyle().Bold(true).Reverse(true).Foreground(t.Bad),
		Banner:      r.NewStyle().Bold(true).Reverse(true).Foreground(t.Warn),
		Frame:       fg(t.Muted),
		Selected:    r.NewStyle().Bold(true).Foreground(t.Accent),
	}
	for i, c := range t.Series {
		s.Series[i] = fg(c)
	}
	set := func(cl chart.Class, st lipgloss.Style) {
		s.Chart.Open[cl], s.Chart.Close[cl] = Codes(st)
	}
	set(chart.Axis, fg(t.Muted))
	set(chart.Label, fg(t.Muted))
	set(chart.Band, fg(t.Band))
	set(chart.Expect, fg(t.Expect))
	set(chart.Guard, fg(t.Guard))
	set(chart.Start, fg(t.Marker))
	set(chart.Stop, fg(t.Marker))
	for i := range t.Series {
		set(chart.Series0+chart.Class(i), s.Series[i])
	}
	return s
}

// Codes returns the escape sequences a style wraps text in, so that text
// can be wrapped without a lipgloss render per piece. Only for styles of
// colours and attributes: no padding, margins, borders or widths.
func Codes(st lipgloss.Style) (open, close string) {
	const probe = "\x00"
	out := st.Render(probe)
	i := strings.Index(out, probe)
	if i < 0 {
		return "", ""
	}
	return out[:i], out[i+len(probe):]
}

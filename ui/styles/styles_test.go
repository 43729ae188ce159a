package styles

import (
	"io"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/gameday/gameday/ui/chart"
)

func colourRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(true)
	return r
}

func TestCodesWrapLikeRender(t *testing.T) {
	st := New(colourRenderer(), DefaultTheme(), false)
	open, close := Codes(st.Bad)
	if open == "" || close == "" {
		t.Fatalf("no escape codes for a coloured style: %q %q", open, close)
	}
	if got, want := open+"rollback failed"+close, st.Bad.Render("rollback failed"); got != want {
		t.Errorf("Codes wrap to %q, Render gives %q", got, want)
	}
	if st.Chart.Open[chart.Guard] == "" || st.Chart.Open[chart.Series0] == st.Chart.Open[chart.Series0+1] {
		t.Error("chart palette lacks distinct colours")
	}
}

func TestNoColorMeansNoEscapes(t *testing.T) {
	st := New(colourRenderer(), DefaultTheme(), true)
	for _, s := range []lipgloss.Style{st.Bad, st.OK, st.Warn, st.Title, st.Series[0]} {
		if out := s.Render("x"); strings.ContainsRune(out, '\x1b') {
			t.Errorf("NO_COLOR style renders %q", out)
		}
	}
	for cl := range st.Chart.Open {
		if st.Chart.Open[cl] != "" || st.Chart.Close[cl] != "" {
			t.Errorf("NO_COLOR chart class %d has codes %q %q", cl, st.Chart.Open[cl], st.Chart.Close[cl])
		}
	}
}

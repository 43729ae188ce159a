package ui

import (
	"strings"
	"testing"

	"github.com/gameday/gameday/ui/keys/keystest"
)

// A lower-case y on the blast radius confirms nothing, on purpose; the
// status line says so rather than ignoring it silently.
func TestLowerCaseYOnTheBlastRadiusIsExplained(t *testing.T) {
	hs := newHarness(t, stBlast, 120, 30)
	hs.m.Update(keystest.Press("y"))
	if len(hs.sent.sent) != 0 {
		t.Fatalf("y sent %v; only Y confirms", hs.sent.sent)
	}
	if line := hs.m.statusLine(); !strings.Contains(line, "press Y") {
		t.Errorf("status line after y: %q, want it to say to press Y", line)
	}
	// Elsewhere y is just an unused key.
	hyp := newHarness(t, stHypothesis, 120, 30)
	hyp.m.Update(keystest.Press("y"))
	if hyp.m.flash != "" {
		t.Errorf("y on the hypothesis flashed %q", hyp.m.flash)
	}
}

package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// The status line after e names the HTML first and whole, and drops what
// does not fit by whole names, never mid-word.
func TestReportWrittenFits(t *testing.T) {
	dir := "/home/ana/gameday/runs/20261204T161100Z-checkout-survives-a-slow-instance"
	files := []string{dir + "/report-p95.svg", dir + "/report-error-rate.svg", dir + "/report.md", dir + "/report.html", dir + "/report.json"}
	for _, w := range []int{60, 80, 120, 200} {
		got := reportWritten(files, w)
		if ansi.StringWidth(got) > w {
			t.Errorf("%d columns: %q is %d wide", w, got, ansi.StringWidth(got))
		}
		if !strings.HasPrefix(got, "report written: ") || !strings.Contains(got, "report.html") {
			t.Errorf("%d columns: %q does not name the HTML", w, got)
		}
		if strings.Index(got, "report.html") > strings.Index(got+"report.md", "report.md") {
			t.Errorf("%d columns: %q lists another file before the HTML", w, got)
		}
		if w >= 120 && !strings.Contains(got, "20261204T161100Z-checkout-survives-a-slow-instance/report.html") {
			t.Errorf("%d columns: %q cuts the run directory's name", w, got)
		}
		t.Logf("%d: %s", w, got)
	}
	if got := reportWritten(files, 200); !strings.Contains(got, dir+"/report.html (also report.md, report.json") {
		t.Errorf("200 columns: %q", got)
	}
}

// The header gives way by whole parts: a long run name is shown whole or
// not at all, never cut mid-word.
func TestHeaderKeepsTheRunWhole(t *testing.T) {
	id := "20261204T161100Z-checkout-survives-a-slow-instance"
	for _, w := range []int{80, 100, 120, 200} {
		hs := newHarness(t, stRun, w, 30)
		hs.m.run.RunID = id
		line := ansi.Strip(hs.m.header()[0])
		if strings.Contains(line, "…") || (strings.Contains(line, "run 2026") && !strings.Contains(line, "run "+id)) {
			t.Errorf("%d columns: header %q cuts a part", w, line)
		}
		if w >= 120 && !strings.Contains(line, "run "+id) {
			t.Errorf("%d columns: header %q leaves out the run though it fits", w, line)
		}
	}
}

// A rehearsal says so in the header, beside the phase, at every width.
func TestHeaderSaysRehearsal(t *testing.T) {
	for _, w := range []int{80, 200} {
		hs := newHarness(t, stRun, w, 30)
		if line := ansi.Strip(hs.m.header()[1]); strings.Contains(line, "REHEARSAL") {
			t.Fatalf("%d columns: a run as written reads %q", w, line)
		}
		hs.m.run.TimeScale = 0.05
		if line := ansi.Strip(hs.m.header()[1]); !strings.HasPrefix(line, "RUN · REHEARSAL ×0.05") {
			t.Errorf("%d columns: header %q does not say it is a rehearsal", w, line)
		}
	}
}

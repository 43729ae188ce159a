package main

import (
	"os"
	"strings"
	"testing"
)

// --confirm-each-stage needs a person to ask and stages to ask about:
// with --autopilot, or on a runbook without stages, it is refused before
// anything is measured or touched, with the reason.
func TestConfirmEachStageRefusals(t *testing.T) {
	l := &lab{}
	plain := l.runbookFile(t)
	src, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	staged := strings.Replace(plain, "r.yaml", "staged.yaml", 1)
	stages := strings.Replace(strings.Replace(string(src), "duration: 1m}", "duration: 1m, stages: [{count: 1}, {all: true}]}", 1), "observe: {duration: 1m}", "", 1)
	if err := os.WriteFile(staged, []byte(stages), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--autopilot", "--yes", "--confirm-each-stage", staged}, staged + ": --confirm-each-stage asks a person before each escalation, and --autopilot has nobody to ask"},
		{[]string{"run", "--confirm-each-stage", plain}, plain + ": --confirm-each-stage: the runbook has no stages to confirm"},
	} {
		code, _, errs := gameday(t, c.args...)
		if code != exitInvalid || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d: %s\nwant exit %d and %q", c.args, code, errs, exitInvalid, c.want)
		}
	}
}

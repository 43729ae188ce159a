package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sandbox "github.com/gameday/gameday/lab"
)

// TestLabScenarioOutcomes runs every lab scenario, ten times faster than
// written, through gameday run --autopilot against a live lab, and checks
// it ends with its known verdict and exit code and leaves every host clean.
func TestLabScenarioOutcomes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs each lab scenario for about 20s")
	}
	for _, s := range sandbox.Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			l, err := sandbox.Start(context.Background(), sandbox.Options{Seed: 3, HealthInterval: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			var stdout, stderr bytes.Buffer
			cmd := newLabCmd()
			cmd.SetOut(&stdout)
			cmd.SetErr(&stderr)
			cmd.SetContext(context.Background())
			err = runLabScenario(cmd, l, s.Name, 0.1, runFlags{Autopilot: true, RunsDir: filepath.Join(t.TempDir(), "runs")})
			code := exitOK
			var ee *exitError
			if errors.As(err, &ee) {
				code = ee.code
			} else if err != nil {
				t.Fatalf("%s: %v", s.Name, err)
			}
			if code != s.ExitCode() || !strings.Contains(stderr.String(), "verdict "+s.Outcome) {
				t.Fatalf("%s: exit %d (%v), want %d and verdict %s\n%s", s.Name, code, err, s.ExitCode(), s.Outcome, stderr.String())
			}
			for _, in := range l.Fleet().Instances() {
				out, _, _ := in.Exec("status")
				if !strings.Contains(out, "service up") || !strings.Contains(out, "no active faults") {
					t.Errorf("%s: after the run:\n%s", s.Name, out)
				}
			}
		})
	}
}

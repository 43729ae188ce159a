package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	sandbox "github.com/gameday/gameday/lab"
	"github.com/gameday/gameday/lab/e2e"
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
			// Each scenario has a lab of its own and spends its time
			// waiting on the lab's clock: as many run at once as -parallel
			// allows (GOMAXPROCS), which keeps the package well inside go
			// test's ten minutes.
			t.Parallel()
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
			// A staged scenario breaks at the stage it says, having held
			// every stage before it.
			if s.Stage > 0 {
				for n := 1; n < s.Stage; n++ {
					if want := fmt.Sprintf("stage %d held", n); !strings.Contains(stderr.String(), want) {
						t.Errorf("%s: no %q:\n%s", s.Name, want, stderr.String())
					}
				}
				if want := fmt.Sprintf("refuted at stage %d", s.Stage); !strings.Contains(stderr.String(), want) {
					t.Errorf("%s: no %q:\n%s", s.Name, want, stderr.String())
				}
			}
			// The fault went in through the family the scenario names: an
			// EC2 instance id for the AWS path, a host name for SSH.
			src, _ := l.Runbook(s.Name, 0.1)
			member := " on checkout-"
			if strings.Contains(string(src), "\n    aws:\n") {
				member = " on i-0000000000000000"
			}
			if !regexp.MustCompile(`(?m) injected .*` + regexp.QuoteMeta(member)).MatchString(stderr.String()) {
				t.Errorf("%s: no injection%s…:\n%s", s.Name, member, stderr.String())
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

// TestLabUpPrintsEndpointsAndStopsClean starts gameday lab up, reads the
// endpoints it prints, checks they answer, then stops it as Ctrl-C would
// and checks nothing listens any more.
func TestLabUpPrintsEndpointsAndStopsClean(t *testing.T) {
	var out, errOut e2e.Screen
	cmd := newLabUpCmd()
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	dir := t.TempDir()
	cmd.SetArgs([]string{"--hosts", "2", "--rps", "10", "--dir", dir})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	e2e.Eventually(t, 20*time.Second, func() string {
		if strings.Contains(out.String(), "AWS_SECRET_ACCESS_KEY=") {
			return ""
		}
		return fmt.Sprintf("no endpoints printed:\n%s\n%s", out.String(), errOut.String())
	})
	printed := out.String()
	for _, want := range []string{"Prometheus     http://127.0.0.1:", "ssh_config     " + filepath.Join(dir, "ssh_config"),
		"known_hosts    " + filepath.Join(dir, "known_hosts"), "checkout-2", "i-00000000000000002", "export AWS_ENDPOINT_URL=http://127.0.0.1:"} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	var listening []string
	for _, m := range regexp.MustCompile(`127\.0\.0\.1:\d+`).FindAllString(printed, -1) {
		c, err := net.DialTimeout("tcp", m, time.Second)
		if err != nil {
			t.Errorf("%s printed but not answering: %v", m, err)
			continue
		}
		c.Close()
		listening = append(listening, m)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("lab up: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("lab up did not stop")
	}
	e2e.Closed(t, "lab up stopped", listening...)
}

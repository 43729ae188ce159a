package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	gdreport "github.com/gameday/gameday/gamedays/report"
	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/lab/e2e"
)

// fisRun serves a lab endpoint with one instance, metrics that hold, and a
// runbook that stops the instance under engine: fis for duration, with an
// alarm as its stop condition; gameday's environment holds the endpoint's
// keys and nothing of the user's.
func fisRun(t *testing.T, duration time.Duration) (l *lab, srv *labaws.Server, id, path string) {
	t.Helper()
	e2e.Need(t, "prometheus")
	l = &lab{runsDir: filepath.Join(t.TempDir(), "runs")}
	l.startMetrics(t)

	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
	}
	home := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFIS")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fis-secret")
	t.Setenv("AWS_REGION", "us-east-1")
	srv = labaws.New(labaws.Options{Keys: []labaws.Key{{AccessKeyID: "AKIDFIS", SecretAccessKey: "fis-secret"}}})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	id = labaws.InstanceID(1)
	if err := srv.AddInstance(labaws.Instance{ID: id, Tags: map[string]string{"service": "checkout"}}); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`version: 1
name: fis stop
metrics:
  step: 1s
  panels:
    p95: {query: 'max(gameday_test_latency_seconds)', unit: seconds}
baseline:
  duration: 2s
  steady_state: {p95: "< 300ms"}
hypothesis:
  statement: losing one instance keeps latency where it was
  expect: {p95: "< 500ms"}
targets:
  fleet:
    aws: {region: us-east-1, resource: ec2:instance, tags: {service: checkout}, accounts: ["%s"], endpoint: %s, engine: fis, fis_role: "arn:aws:iam::%s:role/gameday-fis", stop_alarms: ["%s"]}
blast_radius:
  fleet: {all: true}
attacks:
  - {name: stop, target: fleet, kind: ec2-stop, duration: %s}
`, labaws.DefaultAccount, srv.URL(), labaws.DefaultAccount, fisAlarm, duration)
	path = filepath.Join(t.TempDir(), "fis.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return l, srv, id, path
}

const fisAlarm = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-p95"

// injectedFIS waits until c's run has journalled its inject, and returns
// the run directory and the experiment's id.
func injectedFIS(t *testing.T, l *lab, c *child) (dir, exp string) {
	t.Helper()
	e2e.WaitFor(t, 30*time.Second, "a run directory", func() bool {
		select {
		case <-c.exited:
			t.Fatalf("gameday exited %d before the attack:\n%s", c.code, c.stderr.String())
		default:
		}
		m, _ := filepath.Glob(filepath.Join(l.runsDir, "*", gamedays.JournalName))
		return len(m) == 1
	})
	dir = l.runDir(t)
	e2e.WaitFor(t, 60*time.Second, "attack.result OK in the journal", func() bool {
		return find(journal(t, dir), gamedays.EvAttackResult, true) != nil
	})
	for _, e := range journal(t, dir) {
		if e.Type == gamedays.EvAttackResult && e.Injection != nil {
			exp = e.Injection.State["experiment_id"]
		}
	}
	return dir, exp
}

// A gameday killed with SIGKILL during an engine: fis ec2-stop leaves the
// fault to AWS: the lab endpoint's FIS starts the instance again at the
// attack's duration with no gameday process left, and recover then only
// has the template to delete.
func TestFISEngineOutlivesAKilledConsole(t *testing.T) {
	const duration = 8 * time.Second
	l, srv, id, path := fisRun(t, duration)
	c := start(t, "run", path, "--autopilot", "--yes", "--prometheus", l.prom, "--runs-dir", l.runsDir)
	_, expID := injectedFIS(t, l, c)
	c.cmd.Process.Signal(syscall.SIGKILL)
	if code := c.wait(t, 10*time.Second); code != -int(syscall.SIGKILL) {
		t.Fatalf("exit %d, want killed by SIGKILL\n%s", code, c.stderr.String())
	}
	killed := time.Now()
	e2e.WaitFor(t, 10*time.Second, "the instance to be stopped", func() bool {
		in, _ := srv.Instance(id)
		return in.State == labaws.StateStopped
	})
	exp, _ := srv.Experiment(expID)
	if exp.Status != "running" {
		t.Fatalf("experiment %q is %q after the kill, want running", exp.ID, exp.Status)
	}
	// Nothing of gameday runs now; AWS's own timer ends the fault.
	e2e.WaitFor(t, duration+20*time.Second, "FIS to start the instance again", func() bool {
		in, _ := srv.Instance(id)
		return in.State == labaws.StateRunning
	})
	if x, _ := srv.Experiment(exp.ID); x.Status != "completed" {
		t.Errorf("experiment is %s once the instance runs, want completed", x.Status)
	}
	t.Logf("instance running again %s after the kill, experiment %s completed", time.Since(killed).Round(100*time.Millisecond), exp.ID)
	if srv.Calls("ec2:StartInstances") != 0 {
		t.Errorf("something called StartInstances: the restart must be FIS's")
	}

	// recover finds the run, and what is left to do is delete the template.
	rc := start(t, "recover", "--yes", "--runs-dir", l.runsDir)
	if code := rc.wait(t, time.Minute); code != exitOK {
		t.Fatalf("recover: exit %d\n%s\n%s", code, rc.stdout.String(), rc.stderr.String())
	}
	t.Logf("recover:\n%s", rc.stdout.String())
	if n := srv.Calls("fis:DeleteExperimentTemplate"); n != 1 {
		t.Errorf("recover deleted %d templates, want 1", n)
	}
}

// The alarm a runbook names stops the experiment on AWS's side: the run
// journals the fault's early end, and since the fault no longer holds over the attack window
// it aborts on its own (exit 2) instead of judging a fault that is gone;
// the rollback finds the experiment stopped.
func TestFISEngineStopConditionAbortsTheRun(t *testing.T) {
	l, srv, id, path := fisRun(t, time.Minute)
	c := start(t, "run", path, "--autopilot", "--yes", "--prometheus", l.prom, "--runs-dir", l.runsDir)
	dir, exp := injectedFIS(t, l, c)
	e2e.WaitFor(t, 10*time.Second, "the instance to be stopped", func() bool {
		in, _ := srv.Instance(id)
		return in.State == labaws.StateStopped
	})
	srv.SetAlarm(fisAlarm, true)
	want := "FIS experiment " + exp + " is stopped: Experiment stopped by stop condition " + fisAlarm
	if code := c.wait(t, time.Minute); code != exitAborted {
		t.Fatalf("exit %d, want %d (aborted): the fault ended early\n%s", code, exitAborted, c.stderr.String())
	}
	if in, _ := srv.Instance(id); in.State != labaws.StateRunning {
		t.Errorf("instance is %s after the run, want running", in.State)
	}
	events := journal(t, dir)
	noted := false
	for _, e := range events {
		noted = noted || e.Type == gamedays.EvFaultEnded && e.Source == "fis" && e.Injection != nil && e.Injection.Member.ID == id && strings.Contains(e.Msg, want)
	}
	if !noted {
		t.Errorf("the journal has no fault.ended of %s saying %q", id, want)
	}
	// The report's attack ends when AWS ended it, and says how.
	rep, err := gdreport.Build(events, false)
	if err != nil || len(rep.Attacks) != 1 {
		t.Fatalf("report: %v, %+v", err, rep)
	}
	ended := find(events, gamedays.EvFaultEnded, false)
	if a := rep.Attacks[0]; !strings.Contains(a.EndedEarly, want) || a.EndedAt == nil || ended == nil || !a.EndedAt.Equal(ended.Time) {
		t.Errorf("report attack: ended early %q at %v; want %q at the fault.ended's time", a.EndedEarly, a.EndedAt, want)
	}
	v := find(events, gamedays.EvVerdict, false)
	if v == nil || v.Verdict != string(gamedays.VerdictAborted) || !strings.Contains(v.Msg, "stop on "+id+" was seen ended") || !strings.Contains(v.Msg, "stopped by stop condition") {
		t.Errorf("verdict: %+v; want aborted, naming the fault that ended early and why", v)
	}
	rb := find(events, gamedays.EvRollbackResult, true)
	if rb == nil || rb.Result == nil || !strings.Contains(rb.Result.Output, "stopped by stop condition") || !strings.Contains(rb.Result.Output, "deleted") {
		t.Errorf("rollback result: %+v", rb)
	} else {
		t.Logf("verdict: %s\nrollback: %s", v.Msg, rb.Result.Output)
	}
}

package aws

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

// shellAgent plays the SSM agent of instance id on this machine: it runs
// the commands with sh, as the agent does, and nothing for other ids.
func shellAgent(t *testing.T, id string) func(ctx context.Context, instanceID string, commands []string) (string, string, int) {
	e2e.Need(t, "sh", "setsid", "fallocate", "df", "awk")
	return func(ctx context.Context, instanceID string, commands []string) (string, string, int) {
		if instanceID != id {
			return "", "not this test's instance", 1
		}
		cmd := exec.CommandContext(ctx, "sh", "-c", strings.Join(commands, "\n"))
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if err != nil {
			code = -1
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
		}
		return stdout.String(), stderr.String(), code
	}
}

func TestLabSSMCommandRunsALinuxAttack(t *testing.T) {
	srv, e, members := labFleet(t, 1, labaws.Hooks{RunShell: shellAgent(t, labaws.InstanceID(1))})
	ctx := context.Background()
	dir := t.TempDir()
	inj := &targets.Injection{RunID: "r-ssm", Attack: "fill disk", Kind: "ssm-command", Member: members[0], Duration: time.Minute,
		Params: map[string]string{"attack": "disk-fill", "path": dir, "size": "1MiB", "max_concurrency": "1", "max_errors": "0"}}
	if err := e.Preflight(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	res, err := e.Inject(ctx, inj)
	if err != nil {
		t.Fatal(err)
	}
	// The result says when the switch ends the fault: duration plus grace.
	if lo, hi := before.Add(inj.Duration+e.opts.Grace), time.Now().Add(inj.Duration+e.opts.Grace); res.Expires.Before(lo.Add(-time.Second)) || res.Expires.After(hi) {
		t.Errorf("expires %s, want between %s and %s", res.Expires, lo, hi)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "gameday-fill-*"))
	if len(files) != 1 || inj.State["command_id"] == "" || !strings.Contains(res.Output, "gameday: injected") {
		t.Fatalf("after inject: files %v, state %v, output %q", files, inj.State, res.Output)
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Size() != 1<<20 {
		t.Fatalf("fill file: %v, %v", fi, err)
	}
	// The dead man's switch is armed on the instance, as over SSH.
	home, _ := os.UserHomeDir()
	timers, _ := filepath.Glob("/run/gameday/r-ssm/*.timer")
	more, _ := filepath.Glob(filepath.Join(home, ".gameday", "r-ssm", "*.timer"))
	if timers = append(timers, more...); len(timers) != 1 || inj.State["switch_at"] == "" {
		t.Fatalf("switch: timers %v, state %v", timers, inj.State)
	}
	for i := 0; i < 2; i++ {
		res, err := e.Rollback(ctx, *inj)
		if err != nil {
			t.Fatalf("rollback %d: %v", i, err)
		}
		if files, _ := filepath.Glob(filepath.Join(dir, "gameday-fill-*")); len(files) != 0 || !strings.Contains(res.Output, "gameday: reverted") {
			t.Fatalf("rollback %d left %v (%q)", i, files, res.Output)
		}
	}
	if n := srv.Calls("ssm:SendCommand"); n != 4 {
		t.Errorf("SendCommand called %d times, want preflight, inject and two rollbacks", n)
	}

	// A failed preflight names what the host lacks.
	bad := *inj
	bad.Params = map[string]string{"attack": "disk-fill", "path": "/nonexistent-gameday-dir", "size": "1MiB", "max_concurrency": "1", "max_errors": "0"}
	if err := e.Preflight(ctx, bad); err == nil || !strings.Contains(err.Error(), "/nonexistent-gameday-dir") {
		t.Fatalf("preflight on a missing directory: %v", err)
	}
}

func TestLabSSMCommandCarriesLabKinds(t *testing.T) {
	var mu sync.Mutex
	var got []string
	agent := func(_ context.Context, id string, commands []string) (string, string, int) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, id+": "+strings.Join(commands, "\n"))
		return "ok", "", 0
	}
	_, e, members := labFleet(t, 2, labaws.Hooks{RunShell: agent})
	ctx := context.Background()
	for _, m := range members {
		inj := &targets.Injection{RunID: "r1", Attack: "burn", Kind: "ssm-command", Member: m, Duration: time.Minute,
			Params: map[string]string{"attack": "lab-cpu", "load": "50", "max_concurrency": "10%", "max_errors": "0"}}
		preflightInject(ctx, t, e, inj)
		if _, err := e.Rollback(ctx, *inj); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		members[0].ID + ": cpu '--load=50%' '--duration=1m0s'", members[0].ID + ": cpu --rollback",
		members[1].ID + ": cpu '--load=50%' '--duration=1m0s'", members[1].ID + ": cpu --rollback",
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("the agent ran\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLabSSMCommandFailureIsReported(t *testing.T) {
	agent := func(context.Context, string, []string) (string, string, int) {
		return "gameday: stress-ng is not installed\n", "", 1
	}
	_, e, members := labFleet(t, 1, labaws.Hooks{RunShell: agent})
	ctx := context.Background()
	inj := targets.Injection{RunID: "r1", Attack: "burn", Kind: "ssm-command", Member: members[0], Duration: time.Minute,
		Params: map[string]string{"attack": "cpu", "max_concurrency": "1", "max_errors": "0"}}
	err := e.Preflight(ctx, inj)
	if err == nil || !strings.Contains(err.Error(), "stress-ng is not installed") || !strings.Contains(err.Error(), members[0].ID) {
		t.Fatalf("preflight: %v", err)
	}
}

// Through Run Command too, a rollback says when the fault it came to revert
// was already gone: the fill file was deleted by hand meanwhile.
func TestLabSSMRollbackSaysTheFaultWasGone(t *testing.T) {
	srv := startLab(t, labaws.Hooks{RunShell: shellAgent(t, labaws.InstanceID(1))})
	seedFleet(t, srv, 1, checkout)
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	members, err := e.Resolve(ctx, fleetTarget(checkout, 1))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := fmt.Sprintf("r-gone-%d", time.Now().UnixNano())
	t.Cleanup(func() { os.RemoveAll(filepath.Join("/run/gameday", run)) })
	inj := &targets.Injection{RunID: run, Attack: "fill", Kind: "ssm-command", Member: members[0], Duration: time.Minute,
		Params: map[string]string{"attack": "disk-fill", "path": dir, "size": "1MiB"}}
	if res, err := e.Inject(ctx, inj); err != nil {
		t.Fatalf("inject: %v\n%s", err, res.Output)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "gameday-fill-*"))
	if len(files) != 1 {
		t.Fatalf("fill files %v, want one", files)
	}
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	res, err := e.Rollback(ctx, *inj)
	if err != nil || !res.Gone || !strings.Contains(res.Output, "the fault was no longer in place") {
		t.Fatalf("rollback: %v, gone %v\n%s", err, res.Gone, res.Output)
	}
}

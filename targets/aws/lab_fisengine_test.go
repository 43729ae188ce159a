package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

const fisRole = "arn:aws:iam::" + labAccount + ":role/gameday-fis"

// fisFleet resolves n lab instances under a target that runs engine: fis.
func fisFleet(t *testing.T, n int, alarms ...string) (*labaws.Server, *Executor, []targets.Member) {
	t.Helper()
	srv := startLab(t, labaws.Hooks{})
	seedFleet(t, srv, n, checkout)
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	target := fleetTarget(checkout, n)
	target.AWS.Engine, target.AWS.FISRole, target.AWS.StopAlarms = runbook.EngineFIS, fisRole, alarms
	members, err := e.Resolve(context.Background(), target)
	if err != nil || len(members) != n {
		t.Fatalf("resolve: %v, %v", members, err)
	}
	return srv, e, members
}

func labState(t *testing.T, srv *labaws.Server, id string) string {
	t.Helper()
	in, ok := srv.Instance(id)
	if !ok {
		t.Fatalf("instance %s is gone", id)
	}
	return in.State
}

func fisStop(m targets.Member, d time.Duration) targets.Injection {
	return targets.Injection{RunID: "run-fis", Attack: "stop one", Kind: "ec2-stop", Member: m, Params: map[string]string{}, Duration: d, Engine: runbook.EngineFIS}
}

// Under engine fis the instance is stopped by an experiment, and AWS (the
// lab endpoint's timer) starts it again at the duration with no call from
// gameday.
func TestLabFISEngineEndsOnItsOwn(t *testing.T) {
	srv, e, members := fisFleet(t, 2)
	ctx := context.Background()
	inj := fisStop(members[0], 300*time.Millisecond)
	if plan := strings.Join(e.Plan(inj), "\n"); !strings.Contains(plan, "aws:ec2:stop-instances on arn:aws:ec2:us-east-1:"+labAccount+":instance/"+members[0].ID+" for PT1S") {
		t.Errorf("plan does not show the compiled template:\n%s", plan)
	}
	if err := e.Preflight(ctx, inj); err != nil {
		t.Fatal(err)
	}
	res, err := e.Inject(ctx, &inj)
	if err != nil {
		t.Fatal(err)
	}
	if inj.State["template_id"] == "" || inj.State["experiment_id"] == "" || res.Expires.IsZero() || !strings.Contains(res.Output, "running") {
		t.Fatalf("inject recorded %v, result %+v", inj.State, res)
	}
	waitFor(t, "the instance to stop", func() bool { return labState(t, srv, members[0].ID) == "stopped" })
	if got := labState(t, srv, members[1].ID); got != "running" {
		t.Errorf("the other instance is %s", got)
	}
	// Nobody calls anything now: the experiment ends by itself.
	waitFor(t, "FIS to start the instance again", func() bool { return labState(t, srv, members[0].ID) == "running" })
	waitFor(t, "the experiment to complete", func() bool {
		x, _ := srv.Experiment(inj.State["experiment_id"])
		return x.Status == "completed"
	})
	res, err = e.Rollback(ctx, inj)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Output, "completed") || !strings.Contains(res.Output, "deleted") {
		t.Errorf("rollback after the end said %q", res.Output)
	}
	if srv.Calls("ec2:StartInstances") != 0 || srv.Calls("ec2:StopInstances") != 0 {
		t.Errorf("gameday called EC2 itself: %d stops, %d starts", srv.Calls("ec2:StopInstances"), srv.Calls("ec2:StartInstances"))
	}
}

// An abort stops the experiment; FIS restarts the instance and the
// template is deleted. A journal that lost the ids still finds both by tag.
func TestLabFISEngineAbortAndRecover(t *testing.T) {
	srv, e, members := fisFleet(t, 2, "arn:aws:cloudwatch:us-east-1:"+labAccount+":alarm:checkout-p95")
	ctx := context.Background()
	for i, lost := range []bool{false, true} {
		inj := fisStop(members[i], time.Hour)
		if _, err := e.Inject(ctx, &inj); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the instance to stop", func() bool { return labState(t, srv, members[i].ID) == "stopped" })
		exp := inj.State["experiment_id"]
		if lost {
			inj.State = nil // killed before the journal had the ids
		}
		res, err := e.Rollback(ctx, inj)
		if err != nil {
			t.Fatal(err)
		}
		if got := labState(t, srv, members[i].ID); got != "running" {
			t.Errorf("after rollback the instance is %s", got)
		}
		if x, _ := srv.Experiment(exp); x.Status != "stopped" {
			t.Errorf("experiment %s is %s", exp, x.Status)
		}
		if !strings.Contains(res.Output, "stopped") || !strings.Contains(res.Output, "deleted") {
			t.Errorf("rollback said %q", res.Output)
		}
	}
}

func TestLabFISEngineStopsOnItsAlarm(t *testing.T) {
	const alarm = "arn:aws:cloudwatch:us-east-1:" + labAccount + ":alarm:checkout-p95"
	srv, e, members := fisFleet(t, 1, alarm)
	inj := fisStop(members[0], time.Hour)
	if _, err := e.Inject(context.Background(), &inj); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the instance to stop", func() bool { return labState(t, srv, members[0].ID) == "stopped" })
	srv.SetAlarm(alarm, true)
	waitFor(t, "the alarm to stop the experiment and FIS to restart the instance", func() bool {
		x, _ := srv.Experiment(inj.State["experiment_id"])
		return x.Status == "stopped" && labState(t, srv, members[0].ID) == "running"
	})
}

func TestLabFISEngineRefusals(t *testing.T) {
	_, e, members := fisFleet(t, 1)
	inj := fisStop(members[0], time.Minute)
	inj.Kind = "ec2-terminate"
	if err := e.Preflight(context.Background(), inj); err == nil || !strings.Contains(err.Error(), "no FIS action") {
		t.Errorf("ec2-terminate under fis: %v", err)
	}
	inj = fisStop(members[0], time.Minute)
	delete(inj.Member.Labels, LabelFISRole)
	if err := e.Preflight(context.Background(), inj); err == nil || !strings.Contains(err.Error(), "fis_role") {
		t.Errorf("no role: %v", err)
	}
}

// followed is an executor on srv that follows experiments every 20ms and
// sends what it is told on the channel: "follow ID: …" for a status an
// experiment enters, "ended ID: …" for the one it ends in.
func followed(t *testing.T, srv *labaws.Server) (*Executor, chan string) {
	got := make(chan string, 8)
	e := New(Options{
		Region: "us-east-1", Endpoint: srv.URL(), LoadOptions: hermetic(t),
		Credentials: labExecutor(t, srv, "AKIDGAMEDAY").opts.Credentials,
		Poll:        10 * time.Millisecond, FollowEvery: 20 * time.Millisecond,
		Follow: func(inj targets.Injection, msg string) { got <- "follow " + inj.Member.ID + ": " + msg },
		Ended:  func(inj targets.Injection, msg string) { got <- "ended " + inj.Member.ID + ": " + msg },
	})
	t.Cleanup(func() { e.Close() })
	return e, got
}

// Between inject and rollback the executor follows the experiment, so a
// stop condition that fires, or AWS ending it at its duration, is told
// when it happens, as an end: a run aborts on an end before the attack's
// duration.
func TestLabFISEngineIsFollowed(t *testing.T) {
	const alarm = "arn:aws:cloudwatch:us-east-1:" + labAccount + ":alarm:checkout-p95"
	srv, _, members := fisFleet(t, 2, alarm)
	e, got := followed(t, srv)
	ctx := context.Background()
	told := func(id, end string) { t.Helper(); awaitTold(t, got, "ended "+id+": ", end) }
	short := fisStop(members[0], 300*time.Millisecond)
	if _, err := e.Inject(ctx, &short); err != nil {
		t.Fatal(err)
	}
	told(members[0].ID, "is completed: Experiment completed")
	long := fisStop(members[1], time.Hour)
	if _, err := e.Inject(ctx, &long); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the long attack's instance to stop", func() bool { return labState(t, srv, members[1].ID) == "stopped" })
	srv.SetAlarm(alarm, true)
	told(members[1].ID, "is stopped: Experiment stopped by stop condition "+alarm)
}

// awaitTold reads got until a message with prefix and suffix arrives.
func awaitTold(t *testing.T, got chan string, prefix, suffix string) {
	t.Helper()
	for {
		select {
		case msg := <-got:
			t.Log(msg)
			if strings.HasPrefix(msg, "follow ") && (strings.Contains(msg, " is completed") || strings.Contains(msg, " is stopped:")) {
				t.Errorf("an end was told as a status: %s", msg)
			}
			if strings.HasPrefix(msg, prefix) && strings.HasSuffix(msg, suffix) {
				return
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("never told %s…%s", prefix, suffix)
		}
	}
}

// A fis-experiment attack (the user's own template) is followed too: a
// template shorter than the attack ends on its own, and that is told as
// an end, even when it ended before the inject saw it run.
func TestLabFISExperimentEndIsTold(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	if err := srv.AddTemplate(labaws.Template{ID: "EXTshort", Duration: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	e, got := followed(t, srv)
	ctx := context.Background()
	_, members := templateMembers(t, e, "EXTshort")
	inj := &targets.Injection{RunID: "r-fis", Attack: "short", Kind: "fis-experiment", Member: members[0], Duration: time.Minute}
	if _, err := e.Inject(ctx, inj); err != nil {
		t.Fatal(err)
	}
	awaitTold(t, got, "ended EXTshort: FIS experiment "+inj.State["experiment_id"]+" is completed", ": Experiment completed")
	if _, err := e.Rollback(ctx, *inj); err != nil {
		t.Fatal(err)
	}
}

// ssm-command and lambda-fault compile to FIS's send-command and Lambda
// actions: the command reaches the instance with the kind's own script,
// the function carries the fault while the experiment runs, and the
// rollback runs the kind's revert script and lifts the fault.
func TestLabFISEngineSSMAndLambda(t *testing.T) {
	ran := make(chan string, 8)
	srv := startLab(t, labaws.Hooks{RunShell: func(ctx context.Context, id string, cmds []string) (string, string, int) {
		ran <- strings.Join(cmds, "\n")
		return "", "", 0
	}})
	seedFleet(t, srv, 1, checkout)
	if err := srv.AddFunction(labaws.Function{Name: "pricing", Tags: checkout}); err != nil {
		t.Fatal(err)
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	resolve := func(target runbook.Target) targets.Member {
		t.Helper()
		target.AWS.Engine, target.AWS.FISRole = runbook.EngineFIS, fisRole
		ms, err := e.Resolve(ctx, target)
		if err != nil || len(ms) != 1 {
			t.Fatalf("resolve: %v, %v", ms, err)
		}
		return ms[0]
	}

	burn := targets.Injection{RunID: "run-fis", Attack: "burn", Kind: "ssm-command", Member: resolve(fleetTarget(checkout, 1)), Duration: time.Hour, Engine: runbook.EngineFIS,
		Params: map[string]string{"attack": "lab-cpu", "load": "20", "max_concurrency": "1", "max_errors": "0"}}
	if _, err := e.Inject(ctx, &burn); err != nil {
		t.Fatal(err)
	}
	_, script, revert, err := e.ssmScripts(burn)
	if err != nil {
		t.Fatal(err)
	}
	wantRun(t, ran, "the send-command action", script)
	if _, err := e.Rollback(ctx, burn); err != nil {
		t.Fatal(err)
	}
	if revert == "" {
		t.Fatal("lab-cpu has no revert script to check")
	}
	wantRun(t, ran, "the rollback", revert)

	fail := targets.Injection{RunID: "run-fis", Attack: "fail", Kind: "lambda-fault", Member: resolve(lambdaTarget([]string{"pricing"}, nil)), Duration: time.Hour, Engine: runbook.EngineFIS,
		Params: map[string]string{"error_rate": "25%", "status_code": "500"}}
	if _, err := e.Inject(ctx, &fail); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the function to carry the fault", func() bool {
		f, _ := srv.Function("pricing")
		return len(f.FISFaults) == 1 && f.FISFaults[0] == "aws:lambda:invocation-error"
	})
	if f, _ := srv.Function("pricing"); len(f.Env) != 0 {
		t.Errorf("engine fis changed the function's environment: %v", f.Env)
	}
	if _, err := e.Rollback(ctx, fail); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the fault to be lifted", func() bool {
		f, _ := srv.Function("pricing")
		return len(f.FISFaults) == 0
	})
}

// wantRun waits for the next command the lab's instance ran, which must be
// script.
func wantRun(t *testing.T, ran <-chan string, who, script string) {
	t.Helper()
	select {
	case got := <-ran:
		if got != script {
			t.Errorf("%s ran %q, want %q", who, got, script)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s ran nothing", who)
	}
}

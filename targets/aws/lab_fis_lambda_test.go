package aws

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

func TestLabFISExperiment(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	for _, tpl := range []labaws.Template{
		{ID: "EXTcheckoutstop", Duration: time.Hour, Actions: map[string]string{"stop": "aws:ec2:stop-instances"}},
		{ID: "EXTshort", Duration: 50 * time.Millisecond},
	} {
		if err := srv.AddTemplate(tpl); err != nil {
			t.Fatal(err)
		}
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	target, members := templateMembers(t, e, "EXTcheckoutstop")
	inj := &targets.Injection{RunID: "r-fis", Attack: "stop via fis", Kind: "fis-experiment", Member: members[0], Duration: time.Minute}
	preflightInject(ctx, t, e, inj)
	id := inj.State["experiment_id"]
	x, ok := srv.Experiment(id)
	if !ok || x.Status != "running" || x.Tags[TagRunID] != "r-fis" || x.Tags[TagAttack] != "stop via fis" {
		t.Fatalf("experiment %s: %+v", id, x)
	}
	// Rollback from the intent alone: the experiment is found by its tags.
	lost := *inj
	lost.State = nil
	if _, err := e.Rollback(ctx, lost); err != nil {
		t.Fatal(err)
	}
	if x, _ := srv.Experiment(id); x.Status != "stopped" {
		t.Fatalf("after rollback: %s", x.Status)
	}
	if _, err := e.Rollback(ctx, *inj); err != nil {
		t.Fatalf("second rollback: %v", err)
	}
	if n := srv.Calls("fis:StopExperiment"); n != 1 {
		t.Errorf("StopExperiment called %d times", n)
	}
	// A rollback with nothing started succeeds and says so.
	res, err := e.Rollback(ctx, targets.Injection{RunID: "r-other", Attack: "a", Kind: "fis-experiment", Member: members[0]})
	if err != nil || !strings.Contains(res.Output, "no experiment") {
		t.Errorf("rollback of nothing: %v, %q", err, res.Output)
	}

	// An experiment that ended on its own is left as it is.
	short := &targets.Injection{RunID: "r-fis", Attack: "short", Kind: "fis-experiment", Member: members[0], Duration: time.Minute,
		Params: map[string]string{"template_id": "EXTshort"}}
	if _, err := e.Inject(ctx, short); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the experiment to complete", func() bool { x, _ := srv.Experiment(short.State["experiment_id"]); return x.Status == "completed" })
	res, err = e.Rollback(ctx, *short)
	if err != nil || !strings.Contains(res.Output, "completed") {
		t.Errorf("rollback of a completed experiment: %v, %q", err, res.Output)
	}
	if n := srv.Calls("fis:StopExperiment"); n != 1 {
		t.Errorf("StopExperiment called %d times", n)
	}
	// A template that does not exist fails resolution, naming it.
	target.AWS.IDs = []string{"EXTmissing"}
	if _, err := e.Resolve(ctx, target); err == nil || !strings.Contains(err.Error(), "EXTmissing") {
		t.Fatalf("missing template: %v", err)
	}
}

// templateMembers resolves a target of the one FIS template id.
func templateMembers(t *testing.T, e *Executor, id string) (runbook.Target, []targets.Member) {
	t.Helper()
	target := runbook.Target{Name: "fis", AWS: &runbook.AWSTarget{Resource: "fis:experiment-template", IDs: []string{id}, Accounts: []string{labAccount}}}
	members, err := e.Resolve(context.Background(), target)
	if err != nil || len(members) != 1 {
		t.Fatalf("resolve: %v, %v", members, err)
	}
	return target, members
}

func lambdaTarget(ids []string, tags map[string]string) runbook.Target {
	return runbook.Target{Name: "fn", AWS: &runbook.AWSTarget{Resource: "lambda:function", IDs: ids, Tags: tags, Accounts: []string{labAccount}}}
}

// reservation is a function's reserved concurrency as the executor labels it.
func reservation(f labaws.Function) string {
	if f.ReservedConcurrency == nil {
		return "none"
	}
	return strconv.Itoa(*f.ReservedConcurrency)
}

func TestLabLambdaThrottle(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	ten := 10
	for _, f := range []labaws.Function{
		{Name: "checkout", ReservedConcurrency: &ten, Tags: map[string]string{"service": "checkout"}},
		{Name: "search", Tags: map[string]string{"service": "checkout"}},
		{Name: "other", Tags: map[string]string{"service": "search"}},
	} {
		if err := srv.AddFunction(f); err != nil {
			t.Fatal(err)
		}
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	members, err := e.Resolve(ctx, lambdaTarget(nil, map[string]string{"service": "checkout"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 2 || members[0].ID != "checkout" || members[0].Labels[LabelConcurrency] != "10" || members[1].Labels[LabelConcurrency] != "none" || !strings.HasPrefix(members[0].Addr, "arn:aws:lambda:") {
		t.Fatalf("members %+v", members)
	}
	// Each function is throttled twice: rolled back from the inject's
	// record, then from the intent alone, as after a crash that lost the
	// record, where the concurrency resolved on the member is restored.
	// Each rollback is made twice, the second a no-op.
	var last *targets.Injection
	for _, m := range members {
		for _, fromRecord := range []bool{true, false} {
			last = throttleThenRestore(t, e, srv, m, fromRecord)
		}
	}
	// Someone else changed search's since: left alone, and said why.
	seven := 7
	if err := srv.EditFunction("search", func(f *labaws.Function) { f.ReservedConcurrency = &seven }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Rollback(ctx, *last); err == nil || !strings.Contains(err.Error(), "now 7") || !strings.Contains(err.Error(), "someone changed it") {
		t.Errorf("rollback over someone else's change: %v", err)
	}
	if f, _ := srv.Function("search"); reservation(f) != "7" {
		t.Errorf("search after the refused rollback: %s, want 7", reservation(f))
	}
	t.Run("resolve by name", func(t *testing.T) {
		// A function that does not exist fails resolution, naming it.
		if _, err := e.Resolve(ctx, lambdaTarget([]string{"checkout", "nope"}, nil)); err == nil || !strings.Contains(err.Error(), "nope") {
			t.Errorf("missing function: %v", err)
		}
		// A function named by id that lacks the target's tags is an error,
		// not a smaller target.
		if _, err := e.Resolve(ctx, lambdaTarget([]string{"checkout", "other"}, checkout)); err == nil || !strings.Contains(err.Error(), "lambda function other does not carry the target's tags") {
			t.Errorf("named function without the tags: %v", err)
		}
	})
}

// throttleThenRestore throttles m to zero and rolls it back twice, the
// first from the inject's record or, unless fromRecord, from the intent
// alone; the second rollback is a no-op. It returns the injection made.
func throttleThenRestore(t *testing.T, e *Executor, srv *labaws.Server, m targets.Member, fromRecord bool) *targets.Injection {
	t.Helper()
	ctx := context.Background()
	inj := &targets.Injection{RunID: "r1", Attack: "throttle", Kind: "lambda-throttle", Member: m, Params: map[string]string{"concurrency": "0"}, Duration: time.Minute}
	preflightInject(ctx, t, e, inj)
	if f, _ := srv.Function(m.ID); f.ReservedConcurrency == nil || *f.ReservedConcurrency != 0 {
		t.Fatalf("%s after inject: %v", m.ID, f.ReservedConcurrency)
	}
	if inj.State["previous_concurrency"] != m.Labels[LabelConcurrency] {
		t.Errorf("%s recorded state %v, want previous_concurrency %s", m.ID, inj.State, m.Labels[LabelConcurrency])
	}
	x := *inj
	if !fromRecord {
		x.State = nil
	}
	for i, x := range []targets.Injection{x, *inj} {
		if _, err := e.Rollback(ctx, x); err != nil {
			t.Fatalf("%s rollback %d (from the record: %v): %v", m.ID, i, fromRecord, err)
		}
	}
	f, _ := srv.Function(m.ID)
	if got := reservation(f); got != m.Labels[LabelConcurrency] {
		t.Errorf("%s restored to %s (from the record: %v), want %s", m.ID, got, fromRecord, m.Labels[LabelConcurrency])
	}
	return inj
}

func TestLabLambdaFault(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	if err := srv.AddFunction(labaws.Function{Name: "checkout", Env: map[string]string{"DB_URL": "postgres://secret@db", "MODE": "live"}}); err != nil {
		t.Fatal(err)
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	members, err := e.Resolve(ctx, lambdaTarget([]string{"checkout"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := srv.Function("checkout")
	inj := faultInjection(members[0], "r-fault", map[string]string{"error_rate": "25%", "status_code": "503", "latency": "200ms"})
	preflightInject(ctx, t, e, inj)
	f, _ := srv.Function("checkout")
	if f.Env[FaultErrorRate] != "0.25" || f.Env[FaultStatusCode] != "503" || f.Env[FaultLatencyMS] != "200" || f.Env[FaultRun] != "r-fault" || f.Env[FaultUntil] == "" || f.Env["MODE"] != "live" {
		t.Fatalf("env after inject: %v", f.Env)
	}
	if inj.State["previous_revision"] != before.RevisionID || inj.State["revision"] != f.RevisionID {
		t.Errorf("revisions %v, function had %s then %s", inj.State, before.RevisionID, f.RevisionID)
	}
	// The journal records the environment's shape, never its values.
	for k, v := range inj.State {
		if strings.Contains(v, "secret") {
			t.Errorf("state %s records a value of the environment: %q", k, v)
		}
	}
	if err := e.Preflight(ctx, *faultInjection(members[0], "r-fault", map[string]string{"error_rate": "25%"})); err == nil || !strings.Contains(err.Error(), "already carries") {
		t.Errorf("preflight on a function already faulted: %v", err)
	}
	// The steps run in order on the one function, each from where the one
	// before left it.
	faultRollbackRefusesEditedEnv(t, e, srv, inj)
	faultRollbackRestoresEnv(t, e, srv, inj)
	faultRollbackSparesOtherRun(t, e, srv, inj)
}

// faultInjection is run's fault attack on m.
func faultInjection(m targets.Member, run string, params map[string]string) *targets.Injection {
	return &targets.Injection{RunID: run, Attack: "errors", Kind: "lambda-fault", Member: m, Duration: 5 * time.Minute, Params: params}
}

// faultRollbackRefusesEditedEnv: another team edits the environment while
// inj runs, so the rollback refuses and says what changed.
func faultRollbackRefusesEditedEnv(t *testing.T, e *Executor, srv *labaws.Server, inj *targets.Injection) {
	t.Helper()
	if err := srv.EditFunction("checkout", func(f *labaws.Function) {
		f.Env["MODE"] = "maintenance"
		f.Env["NEW_FLAG"] = "1"
		delete(f.Env, "DB_URL")
	}); err != nil {
		t.Fatal(err)
	}
	_, err := e.Rollback(context.Background(), *inj)
	for _, want := range []string{"MODE changed", "NEW_FLAG added", "DB_URL removed", "refusing"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("rollback after an edit: %v, want it to say %q", err, want)
		}
	}
	if f, _ := srv.Function("checkout"); f.Env[FaultRun] != "r-fault" || f.Env["MODE"] != "maintenance" {
		t.Fatalf("a refused rollback changed the function: %v", f.Env)
	}
}

// faultRollbackRestoresEnv: the team puts the environment back, so the
// rollback restores exactly the environment from before the attack, and
// a second one writes nothing.
func faultRollbackRestoresEnv(t *testing.T, e *Executor, srv *labaws.Server, inj *targets.Injection) {
	t.Helper()
	ctx := context.Background()
	if err := srv.EditFunction("checkout", func(f *labaws.Function) {
		f.Env["MODE"] = "live"
		f.Env["DB_URL"] = "postgres://secret@db"
		delete(f.Env, "NEW_FLAG")
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Rollback(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	f, _ := srv.Function("checkout")
	if len(f.Env) != 2 || f.Env["DB_URL"] != "postgres://secret@db" || f.Env["MODE"] != "live" {
		t.Fatalf("env after rollback: %v", f.Env)
	}
	wantCalls(t, srv, "lambda:UpdateFunctionConfiguration", 2, "one inject and one rollback")
	if _, err := e.Rollback(ctx, *inj); err != nil {
		t.Fatalf("second rollback: %v", err)
	}
	wantCalls(t, srv, "lambda:UpdateFunctionConfiguration", 2, "second rollback")
}

// faultRollbackSparesOtherRun: another run's fault, with the default
// status code, is not inj's run's to remove, even from its intent alone.
func faultRollbackSparesOtherRun(t *testing.T, e *Executor, srv *labaws.Server, inj *targets.Injection) {
	t.Helper()
	ctx := context.Background()
	preflightInject(ctx, t, e, faultInjection(inj.Member, "other", map[string]string{"error_rate": "10%"}))
	if f, _ := srv.Function("checkout"); f.Env[FaultStatusCode] != "500" || f.Env[FaultErrorRate] != "0.1" {
		t.Fatalf("env after the other run's inject: %v", f.Env)
	}
	lost := *inj
	lost.State = nil
	if _, err := e.Rollback(ctx, lost); err == nil || !strings.Contains(err.Error(), `run "other"`) {
		t.Fatalf("rollback of another run's fault: %v", err)
	}
	if f, _ := srv.Function("checkout"); f.Env[FaultRun] != "other" {
		t.Fatalf("a refused rollback changed the function: %v", f.Env)
	}
}

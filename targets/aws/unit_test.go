package aws

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

func TestInstanceFilters(t *testing.T) {
	got := func(a *runbook.AWSTarget) []string {
		var out []string
		for _, f := range instanceFilters(a) {
			out = append(out, sdkaws.ToString(f.Name)+"="+strings.Join(f.Values, ","))
		}
		return out
	}
	cases := []struct {
		name string
		in   runbook.AWSTarget
		want []string
	}{
		{"tags and running by default", runbook.AWSTarget{Tags: map[string]string{"service": "checkout", "env": "staging"}},
			[]string{"tag:env=staging", "tag:service=checkout", "instance-state-name=running"}},
		{"short names", runbook.AWSTarget{Filters: map[string][]string{"az": {"eu-west-1a", "eu-west-1b"}, "vpc": {"vpc-1"}}},
			[]string{"availability-zone=eu-west-1a,eu-west-1b", "vpc-id=vpc-1", "instance-state-name=running"}},
		{"a state of its own", runbook.AWSTarget{Filters: map[string][]string{"state": {"stopped"}}},
			[]string{"instance-state-name=stopped"}},
		{"raw filter names pass", runbook.AWSTarget{Filters: map[string][]string{"instance-type": {"t3.micro"}}},
			[]string{"instance-type=t3.micro", "instance-state-name=running"}},
	}
	for _, c := range cases {
		if g := got(&c.in); !slices.Equal(g, c.want) {
			t.Errorf("%s: filters %v, want %v", c.name, g, c.want)
		}
	}
}

func TestGuard(t *testing.T) {
	s := &session{where: where{Region: "eu-west-1", Profile: "prod"}, account: "111111111111"}
	err := guard(s, []string{"222222222222", "333333333333"})
	if err == nil || !strings.Contains(err.Error(), "refusing account 111111111111") || !strings.Contains(err.Error(), "222222222222, 333333333333") || !strings.Contains(err.Error(), "profile prod") {
		t.Errorf("wrong account: %v", err)
	}
	if err := guard(s, nil); err == nil || !strings.Contains(err.Error(), `accounts: ["111111111111"]`) {
		t.Errorf("no accounts listed: %v", err)
	}
	if err := guard(s, []string{"111111111111"}); err != nil {
		t.Errorf("listed account: %v", err)
	}
}

func TestMemberAccountChecked(t *testing.T) {
	e := fakeExecutor(t, &Clients{STS: &fakeSTS{account: "999999999999"}})
	inj := targets.Injection{RunID: "r1", Attack: "stop", Kind: "ec2-stop", Member: member("i-1", "111111111111", nil)}
	err := e.Preflight(context.Background(), inj)
	if err == nil || !strings.Contains(err.Error(), "refusing account 999999999999") || !strings.Contains(err.Error(), "resolved in account 111111111111") {
		t.Fatalf("preflight in another account: %v", err)
	}
	if _, err := e.Rollback(context.Background(), inj); err == nil {
		t.Fatal("rollback in another account succeeded")
	}
}

func TestDryRunVerdicts(t *testing.T) {
	if err := dryRun("StopInstances", &smithy.GenericAPIError{Code: "DryRunOperation"}); err != nil {
		t.Errorf("DryRunOperation: %v", err)
	}
	err := dryRun("StopInstances", &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "You are not authorized"})
	if err == nil || !strings.Contains(err.Error(), "not permitted") || !strings.Contains(err.Error(), "ec2:StopInstances") {
		t.Errorf("UnauthorizedOperation: %v", err)
	}
	if err := dryRun("StopInstances", nil); err == nil {
		t.Error("a DryRun that succeeded was trusted")
	}
	if err := dryRun("StopInstances", errors.New("dial tcp: refused")); err == nil {
		t.Error("a network error passed preflight")
	}
}

func TestStopRollbackStartsAndIsIdempotent(t *testing.T) {
	f := &fakeEC2{states: map[string]ec2types.InstanceStateName{"i-1": "running", "i-2": "stopped"}}
	e := fakeExecutor(t, &Clients{STS: &fakeSTS{account: "111111111111"}, EC2: f})
	ctx := context.Background()
	inj := &targets.Injection{RunID: "r1", Attack: "stop", Kind: "ec2-stop", Member: member("i-1", "111111111111", map[string]string{LabelState: "running"})}
	preflightInject(ctx, t, e, inj)
	if inj.State["requested"] != "StopInstances" {
		t.Errorf("state %v", inj.State)
	}
	for i := 0; i < 2; i++ {
		res, err := e.Rollback(ctx, *inj)
		if err != nil {
			t.Fatalf("rollback %d: %v", i, err)
		}
		if f.states["i-1"] != "running" {
			t.Fatalf("rollback %d left i-1 %s (%s)", i, f.states["i-1"], res.Output)
		}
	}
	if n := strings.Count(strings.Join(f.calls, " "), "StartInstances"); n != 1 {
		t.Errorf("StartInstances called %d times: %v", n, f.calls)
	}
	// An instance that was stopped when resolved is not started by a rollback.
	res, err := e.Rollback(ctx, targets.Injection{RunID: "r1", Attack: "stop", Kind: "ec2-stop", Member: member("i-2", "111111111111", map[string]string{LabelState: "stopped"})})
	if err != nil || f.states["i-2"] != "stopped" || !strings.Contains(res.Output, "left as it is") {
		t.Errorf("rollback of a stopped instance: %v, %s, %q", err, f.states["i-2"], res.Output)
	}
}

func TestLambdaThrottleRollback(t *testing.T) {
	ctx := context.Background()
	five := int32(5)
	f := &fakeLambda{conc: &five}
	e := fakeExecutor(t, &Clients{STS: &fakeSTS{account: "111111111111"}, Lambda: f})
	inj := &targets.Injection{RunID: "r1", Attack: "throttle", Kind: "lambda-throttle", Params: map[string]string{"concurrency": "0"},
		Member: member("fn", "111111111111", map[string]string{LabelConcurrency: "5"})}
	if _, err := e.Inject(ctx, inj); err != nil {
		t.Fatal(err)
	}
	if *f.conc != 0 || inj.State["previous_concurrency"] != "5" {
		t.Fatalf("after inject: %d, %v", *f.conc, inj.State)
	}
	// The journal lost the inject's result: the resolved label still restores 5.
	lost := *inj
	lost.State = nil
	if _, err := e.Rollback(ctx, lost); err != nil || f.conc == nil || *f.conc != 5 {
		t.Fatalf("rollback without state: %v, %v", err, f.conc)
	}
	if _, err := e.Rollback(ctx, *inj); err != nil || *f.conc != 5 {
		t.Fatalf("second rollback: %v, %v", err, *f.conc)
	}
	// Someone else changed it meanwhile: left alone, and said why.
	seven := int32(7)
	f.conc = &seven
	_, err := e.Rollback(ctx, *inj)
	if err == nil || !strings.Contains(err.Error(), "now 7") || *f.conc != 7 {
		t.Fatalf("rollback over someone's change: %v, %d", err, *f.conc)
	}
	// None before: the reservation is deleted.
	f.conc = nil
	inj2 := &targets.Injection{RunID: "r1", Attack: "throttle", Kind: "lambda-throttle", Params: map[string]string{"concurrency": "0"}, Member: member("fn", "111111111111", nil)}
	if _, err := e.Inject(ctx, inj2); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Rollback(ctx, *inj2); err != nil || f.conc != nil {
		t.Fatalf("rollback to none: %v, %v", err, f.conc)
	}
}

func TestLambdaFaultRestoresExactlyOrRefuses(t *testing.T) {
	ctx := context.Background()
	f := &fakeLambda{env: map[string]string{"DB_URL": "postgres://secret@db", "MODE": "live"}}
	e := fakeExecutor(t, &Clients{STS: &fakeSTS{account: "111111111111"}, Lambda: f})
	newInj := func() *targets.Injection {
		return &targets.Injection{RunID: "r1", Attack: "fault", Kind: "lambda-fault", Duration: 300e9,
			Params: map[string]string{"error_rate": "10%", "latency": "200ms"}, Member: member("fn", "111111111111", nil)}
	}
	inj := newInj()
	preflightInject(ctx, t, e, inj)
	if f.env[FaultLatencyMS] != "200" || f.env[FaultErrorRate] != "0.1" || f.env[FaultStatusCode] != "500" || f.env[FaultRun] != "r1" || f.env[FaultUntil] == "" {
		t.Fatalf("env after inject: %v", f.env)
	}
	for k, v := range inj.State {
		if strings.Contains(v, "secret") {
			t.Errorf("state %s records a value of the environment: %q", k, v)
		}
	}
	if err := e.Preflight(ctx, *newInj()); err == nil || !strings.Contains(err.Error(), "already carries") {
		t.Errorf("preflight on a function already faulted: %v", err)
	}

	// Someone edits the environment meanwhile: refused, with what changed.
	f.env["MODE"] = "maintenance"
	f.env["NEW_FLAG"] = "1"
	f.revision++
	_, err := e.Rollback(ctx, *inj)
	if err == nil || !strings.Contains(err.Error(), "MODE changed") || !strings.Contains(err.Error(), "NEW_FLAG added") {
		t.Fatalf("rollback after a change: %v", err)
	}
	if f.env[FaultRun] != "r1" {
		t.Fatal("a refused rollback changed the function")
	}

	// Put it back as the inject left it: the rollback restores exactly.
	f.env["MODE"] = "live"
	delete(f.env, "NEW_FLAG")
	res, err := e.Rollback(ctx, *inj)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.env) != 2 || f.env["DB_URL"] != "postgres://secret@db" || f.env["MODE"] != "live" {
		t.Fatalf("env after rollback: %v (%s)", f.env, res.Output)
	}
	updates := f.updates
	if _, err := e.Rollback(ctx, *inj); err != nil || f.updates != updates {
		t.Fatalf("second rollback: %v, %d updates", err, f.updates-updates)
	}

	// Another run's fault is not ours to remove.
	f.env[FaultRun] = "other"
	f.env[FaultLatencyMS] = "5"
	lost := *newInj()
	if _, err := e.Rollback(ctx, lost); err == nil || !strings.Contains(err.Error(), `run "other"`) {
		t.Fatalf("rollback of another run's fault: %v", err)
	}
}

func TestEveryAWSKindIsCarriedOut(t *testing.T) {
	for _, k := range targets.Default().Kinds() {
		if _, ok := attacks[k.Name]; (k.Family == targets.FamilyAWS) != ok {
			t.Errorf("kind %s (family %s): carried out by the aws executor: %v", k.Name, k.Family, ok)
		}
		for _, r := range k.Resources {
			if resolvers[r] == nil {
				t.Errorf("kind %s acts on %s, which nothing resolves", k.Name, r)
			}
		}
	}
	e := fakeExecutor(t, &Clients{STS: &fakeSTS{account: "111111111111"}})
	for _, k := range []string{"cpu", "lab-cpu", "nope"} {
		err := e.Preflight(context.Background(), targets.Injection{Kind: k, Member: member("x", "111111111111", nil)})
		if err == nil || !strings.Contains(err.Error(), "not an aws kind") {
			t.Errorf("%s: preflight: %v", k, err)
		}
	}
	_, err := e.Resolve(context.Background(), runbook.Target{Name: "t", AWS: &runbook.AWSTarget{Resource: "s3:bucket", IDs: []string{"x"}, Accounts: []string{"111111111111"}}})
	if err == nil || !strings.Contains(err.Error(), "not supported by the aws executor") {
		t.Errorf("resolve s3:bucket: %v", err)
	}
}

func TestPlan(t *testing.T) {
	e := New(Options{})
	m := member("i-1", "111111111111", nil)
	cases := map[string][]string{
		"ec2-stop":      {"sts GetCallerIdentity (expect account 111111111111, eu-west-1)", "StopInstances --instance-ids i-1 --dry-run", "StartInstances"},
		"ec2-terminate": {"TerminateInstances --instance-ids i-1", "NONE"},
		"ssm-command":   {"ssm SendCommand AWS-RunShellScript --instance-ids i-1 --max-concurrency 10% --max-errors 0", "stress-ng", "gameday-switch"},
	}
	params := map[string]map[string]string{"ssm-command": {"attack": "cpu", "max_concurrency": "10%", "max_errors": "0"}}
	for kind, want := range cases {
		got := strings.Join(e.Plan(targets.Injection{RunID: "r1", Attack: "a", Kind: kind, Params: params[kind], Member: m, Duration: 60e9}), "\n")
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s plan lacks %q:\n%s", kind, w, got)
			}
		}
	}
}

func TestSSMScriptsOfLabKinds(t *testing.T) {
	e := New(Options{})
	pre, in, rb, err := e.ssmScripts(targets.Injection{RunID: "r1", Attack: "burn", Kind: "ssm-command", Duration: 60e9,
		Params: map[string]string{"attack": "lab-cpu", "load": "50", "max_concurrency": "1", "max_errors": "0"}, Member: member("i-1", "1", nil)})
	if err != nil {
		t.Fatal(err)
	}
	if pre != "" || in != "cpu '--load=50%' '--duration=1m0s'" || rb != "cpu --rollback" {
		t.Errorf("lab-cpu scripts: %q, %q, %q", pre, in, rb)
	}
}

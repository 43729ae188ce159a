package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

const fakeAccount = "111111111111"

func resolveFake(t *testing.T, e *Executor, a runbook.AWSTarget) []targets.Member {
	t.Helper()
	a.Accounts = []string{fakeAccount}
	members, err := e.Resolve(context.Background(), runbook.Target{Name: "t", AWS: &a})
	if err != nil {
		t.Fatal(err)
	}
	return members
}

// run preflights, injects and rolls back inj, failing t on any error.
func run(t *testing.T, e *Executor, inj *targets.Injection) (in, rb targets.Result) {
	t.Helper()
	ctx := context.Background()
	if err := e.Preflight(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	in, err := e.Inject(ctx, inj)
	if err != nil {
		t.Fatal(err)
	}
	rb, err = e.Rollback(ctx, *inj)
	if err != nil {
		t.Fatal(err)
	}
	return in, rb
}

func TestASGSuspendResumesOnlyWhatItSuspended(t *testing.T) {
	f := &fakeASG{suspended: map[string][]string{"web": {"AZRebalance"}}}
	e := fakeExecutor(t, &Clients{STS: &fakeSTS{account: fakeAccount}, ASG: f})
	members := resolveFake(t, e, runbook.AWSTarget{Resource: "autoscaling:group", IDs: []string{"web"}})
	if len(members) != 1 || members[0].Labels[LabelSuspended] != "AZRebalance" {
		t.Fatalf("members %+v", members)
	}
	inj := &targets.Injection{RunID: "r1", Attack: "freeze", Kind: "asg-suspend-processes", Member: members[0], Duration: time.Minute,
		Params: map[string]string{"processes": "Launch,AZRebalance"}}
	ctx := context.Background()
	if _, err := e.Inject(ctx, inj); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.suspended["web"], ","); got != "AZRebalance,Launch" {
		t.Fatalf("suspended after inject: %s", got)
	}
	// Rollback from the intent alone resumes Launch and leaves the team's
	// own AZRebalance suspension.
	lost := *inj
	lost.State = nil
	for _, x := range []targets.Injection{lost, *inj} {
		if _, err := e.Rollback(ctx, x); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(f.suspended["web"], ","); got != "AZRebalance" {
			t.Fatalf("suspended after rollback: %s", got)
		}
	}
	if _, err := e.Resolve(ctx, runbook.Target{Name: "t", AWS: &runbook.AWSTarget{Resource: "autoscaling:group", IDs: []string{"nope"}, Accounts: []string{fakeAccount}}}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing group: %v", err)
	}
}

func TestRDSFailover(t *testing.T) {
	f := &fakeRDS{clusters: map[string]int{"orders": 2, "solo": 1}, multiAZ: map[string]bool{"legacy": true, "single": false}}
	e := fakeExecutor(t, &Clients{STS: &fakeSTS{account: fakeAccount}, RDS: f})
	clusters := resolveFake(t, e, runbook.AWSTarget{Resource: "rds:cluster", Tags: map[string]string{"service": "checkout"}})
	if len(clusters) != 2 || clusters[0].ID != "orders" || clusters[0].Labels[LabelWriter] != "orders-a" {
		t.Fatalf("clusters %+v", clusters)
	}
	inj := &targets.Injection{RunID: "r1", Attack: "failover", Kind: "rds-failover", Member: clusters[0], Duration: time.Minute}
	_, rb := run(t, e, inj)
	if !strings.Contains(rb.Output, "nothing to roll back") || !rb.Nothing || inj.State["previous_writer"] != "orders-a" {
		t.Errorf("rollback %q, state %v", rb.Output, inj.State)
	}
	if err := e.Preflight(context.Background(), targets.Injection{Kind: "rds-failover", Member: clusters[1]}); err == nil || !strings.Contains(err.Error(), "no reader") {
		t.Errorf("single-instance cluster: %v", err)
	}
	instances := resolveFake(t, e, runbook.AWSTarget{Resource: "rds:instance", IDs: []string{"legacy", "single"}})
	run(t, e, &targets.Injection{RunID: "r1", Attack: "failover", Kind: "rds-failover", Member: instances[0], Duration: time.Minute})
	if err := e.Preflight(context.Background(), targets.Injection{Kind: "rds-failover", Member: instances[1]}); err == nil || !strings.Contains(err.Error(), "not Multi-AZ") {
		t.Errorf("single-AZ instance: %v", err)
	}
	if got := strings.Join(f.failovers, "; "); got != "cluster orders; instance legacy" {
		t.Errorf("failovers: %s", got)
	}
}

func TestECSStopTask(t *testing.T) {
	arn := "arn:aws:ecs:eu-west-1:111111111111:task/shop/0123abcd"
	f := &fakeECS{tasks: map[string]string{arn: "RUNNING", "arn:aws:ecs:eu-west-1:111111111111:task/shop/gone": "STOPPED"}}
	e := fakeExecutor(t, &Clients{STS: &fakeSTS{account: fakeAccount}, ECS: f})
	if _, err := e.Resolve(context.Background(), runbook.Target{Name: "t", AWS: &runbook.AWSTarget{Resource: "ecs:task", Tags: map[string]string{"a": "b"}, Accounts: []string{fakeAccount}}}); err == nil || !strings.Contains(err.Error(), "cluster") {
		t.Errorf("no cluster: %v", err)
	}
	members := resolveFake(t, e, runbook.AWSTarget{Resource: "ecs:task", Filters: map[string][]string{"cluster": {"shop"}, "service": {"checkout"}}})
	if len(members) != 1 || members[0].ID != "0123abcd" || members[0].Addr != arn || members[0].Labels[LabelCluster] != "shop" || members[0].Labels["service"] != "checkout" {
		t.Fatalf("members %+v", members)
	}
	inj := &targets.Injection{RunID: "r1", Attack: "kill task", Kind: "ecs-stop-task", Member: members[0], Duration: time.Minute}
	run(t, e, inj)
	if len(f.stopped) != 1 || !strings.Contains(f.stopped[0], "gameday run r1, attack kill task") {
		t.Errorf("stopped %v", f.stopped)
	}
	if err := e.Preflight(context.Background(), *inj); err == nil || !strings.Contains(err.Error(), "already STOPPED") {
		t.Errorf("preflight of a stopped task: %v", err)
	}
}

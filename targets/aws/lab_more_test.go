package aws

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

func TestLabECSStopTask(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	var arns []string
	for i := 0; i < 3; i++ {
		arn, err := srv.AddTask(labaws.Task{Cluster: "shop", Service: "checkout", Tags: checkout})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, arn)
	}
	for _, x := range []labaws.Task{{Cluster: "shop", Service: "search"}, {Cluster: "shop", Service: "checkout", Tags: checkout, LastStatus: "STOPPED"}} {
		if _, err := srv.AddTask(x); err != nil {
			t.Fatal(err)
		}
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	members := resolveCheckoutTasks(t, e, srv, arns)
	inj := &targets.Injection{RunID: "r-ecs", Attack: "kill a task", Kind: "ecs-stop-task", Member: members[0], Duration: time.Minute}
	preflightInject(ctx, t, e, inj)
	task, _ := srv.Task(members[0].Addr)
	if task.DesiredStatus != "STOPPED" || !strings.Contains(task.StoppedReason, "gameday run r-ecs, attack kill a task") {
		t.Fatalf("task after inject: %+v", task)
	}
	// The rollback undoes nothing and says so: the task stays stopped.
	if res, err := e.Rollback(ctx, *inj); err != nil || !res.Nothing || !strings.HasPrefix(res.Output, "nothing to roll back") {
		t.Fatalf("rollback: %v, %+v", err, res)
	}
	if task, _ := srv.Task(members[0].Addr); task.DesiredStatus != "STOPPED" {
		t.Fatalf("task after rollback: %+v", task)
	}
	// Once stopped, the same task is refused: there is nothing left to stop.
	waitFor(t, "the task to be STOPPED", func() bool { task, _ := srv.Task(members[0].Addr); return task.LastStatus == "STOPPED" })
	if err := e.Preflight(ctx, *inj); err == nil || !strings.Contains(err.Error(), "already STOPPED") {
		t.Errorf("preflight of a stopped task: %v", err)
	}
	// The service replaces it, as ECS does.
	waitFor(t, "a replacement task", func() bool { return runningTasks(srv, "shop", "checkout") == 3 })
}

// runningTasks counts the tasks of service in cluster that the endpoint
// has RUNNING.
func runningTasks(srv *labaws.Server, cluster, service string) int {
	running := 0
	for _, x := range srv.Tasks(cluster) {
		if x.Service == service && x.LastStatus == "RUNNING" {
			running++
		}
	}
	return running
}

// resolveCheckoutTasks resolves the checkout service's tasks in cluster
// shop, failing the test unless they are the running ones at arns.
func resolveCheckoutTasks(t *testing.T, e *Executor, srv *labaws.Server, arns []string) []targets.Member {
	t.Helper()
	ctx := context.Background()
	// Tasks are listed per cluster: a target without one is refused.
	if _, err := e.Resolve(ctx, checkoutTarget("tasks", "ecs:task")); err == nil || !strings.Contains(err.Error(), "cluster") {
		t.Errorf("ecs:task target without a cluster: %v", err)
	}
	members, err := e.Resolve(ctx, runbook.Target{Name: "tasks", AWS: &runbook.AWSTarget{Resource: "ecs:task",
		Filters: map[string][]string{"cluster": {"shop"}, "service": {"checkout"}}, Tags: checkout, Accounts: []string{labAccount}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 3 || members[0].Labels[LabelCluster] != "shop" || members[0].Labels["service"] != "checkout" {
		t.Fatalf("members %+v", members)
	}
	// Each member is one of the running checkout tasks, its id the task's
	// and its address the task's ARN.
	for _, m := range members {
		if task, ok := srv.Task(m.Addr); !ok || !slices.Contains(arns, m.Addr) || m.ID != task.ID {
			t.Errorf("member %s at %s is not a running checkout task (%+v)", m.ID, m.Addr, task)
		}
	}
	return members
}

func TestLabRDSFailover(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	for _, c := range []string{"orders", "solo"} {
		if err := srv.AddDBCluster(labaws.DBCluster{ID: c, Tags: checkout}); err != nil {
			t.Fatal(err)
		}
	}
	for _, in := range []labaws.DBInstance{{ID: "orders-1", Cluster: "orders"}, {ID: "orders-2", Cluster: "orders"}, {ID: "solo-1", Cluster: "solo"},
		{ID: "legacy", MultiAZ: true, Tags: checkout}, {ID: "single", Tags: checkout}} {
		if err := srv.AddDBInstance(in); err != nil {
			t.Fatal(err)
		}
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	clusters, err := e.Resolve(ctx, checkoutTarget("db", "rds:cluster"))
	if err != nil || len(clusters) != 2 || clusters[0].ID != "orders" || clusters[0].Labels[LabelWriter] != "orders-1" || clusters[1].ID != "solo" {
		t.Fatalf("clusters %+v, %v", clusters, err)
	}
	inj := &targets.Injection{RunID: "r-rds", Attack: "failover", Kind: "rds-failover", Member: clusters[0], Duration: time.Minute}
	preflightInject(ctx, t, e, inj)
	waitFor(t, "a new writer", func() bool { c, _ := srv.DBCluster("orders"); return c.Writer == "orders-2" })
	// A failover is not undone: the rollback says so, and the journal keeps
	// the writer it moved away from.
	if res, err := e.Rollback(ctx, *inj); err != nil || !res.Nothing || !strings.Contains(res.Output, "nothing to roll back") || inj.State["previous_writer"] != "orders-1" {
		t.Errorf("rollback: %v, %+v, state %v", err, res, inj.State)
	}
	// A cluster of one instance has no reader to promote.
	if err := e.Preflight(ctx, targets.Injection{RunID: "r", Attack: "a", Kind: "rds-failover", Member: clusters[1]}); err == nil || !strings.Contains(err.Error(), "no reader") {
		t.Errorf("single-instance cluster: %v", err)
	}

	instances, err := e.Resolve(ctx, runbook.Target{Name: "db", AWS: &runbook.AWSTarget{Resource: "rds:instance", IDs: []string{"legacy", "single"}, Accounts: []string{labAccount}}})
	if err != nil || len(instances) != 2 {
		t.Fatalf("instances %+v, %v", instances, err)
	}
	legacy := &targets.Injection{RunID: "r-rds", Attack: "failover", Kind: "rds-failover", Member: instances[0], Duration: time.Minute}
	preflightInject(ctx, t, e, legacy)
	if n := srv.Calls("rds:RebootDBInstance"); n != 1 {
		t.Errorf("RebootDBInstance called %d times", n)
	}
	// The reboot forced a failover: the instance comes back in its standby zone.
	waitFor(t, "legacy to serve from its standby zone", func() bool { in, _ := srv.DBInstance("legacy"); return in.AZ == "us-east-1b" })
	if err := e.Preflight(ctx, targets.Injection{RunID: "r", Attack: "a", Kind: "rds-failover", Member: instances[1]}); err == nil || !strings.Contains(err.Error(), "not Multi-AZ") {
		t.Errorf("single-AZ instance: %v", err)
	}
}

func TestLabASGSuspend(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	if err := srv.AddAutoScalingGroup(labaws.AutoScalingGroup{Name: "web", MinSize: 1, MaxSize: 3, Desired: 2, Tags: checkout,
		Suspended: map[string]string{"AZRebalance": "suspended by the team"}}); err != nil {
		t.Fatal(err)
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	members, err := e.Resolve(ctx, checkoutTarget("asg", "autoscaling:group"))
	if err != nil || len(members) != 1 || members[0].Labels[LabelSuspended] != "AZRebalance" {
		t.Fatalf("members %+v, %v", members, err)
	}
	named := checkoutTarget("asg", "autoscaling:group")
	named.AWS.IDs = []string{"web"}
	if byName, err := e.Resolve(ctx, named); err != nil || len(byName) != 1 || byName[0].ID != "web" || byName[0].Labels[LabelSuspended] != "AZRebalance" {
		t.Fatalf("by name: %+v, %v", byName, err)
	}
	// A group named that does not exist fails resolution, naming it.
	named.AWS.IDs = []string{"web", "nope"}
	if _, err := e.Resolve(ctx, named); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing group: %v", err)
	}
	inj := &targets.Injection{RunID: "r-asg", Attack: "freeze", Kind: "asg-suspend-processes", Member: members[0], Duration: time.Minute,
		Params: map[string]string{"processes": "Launch,Terminate,AZRebalance"}}
	preflightInject(ctx, t, e, inj)
	g, _ := srv.AutoScalingGroup("web")
	if got := strings.Join(slices.Sorted(maps.Keys(g.Suspended)), ","); got != "AZRebalance,Launch,Terminate" {
		t.Fatalf("suspended after inject: %v", g.Suspended)
	}
	// First from the intent alone, as after a crash that lost the inject's
	// record, then from the record: both resume Launch and Terminate and
	// leave the team's own AZRebalance suspension.
	lost := *inj
	lost.State = nil
	for i, x := range []targets.Injection{lost, *inj} {
		if _, err := e.Rollback(ctx, x); err != nil {
			t.Fatalf("rollback %d: %v", i, err)
		}
		g, _ = srv.AutoScalingGroup("web")
		if len(g.Suspended) != 1 || g.Suspended["AZRebalance"] != "suspended by the team" {
			t.Fatalf("suspended after rollback %d: %v", i, g.Suspended)
		}
	}
}

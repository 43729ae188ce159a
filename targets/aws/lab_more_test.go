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
	if _, err := srv.AddTask(labaws.Task{Cluster: "shop", Service: "search"}); err != nil {
		t.Fatal(err)
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	members, err := e.Resolve(ctx, runbook.Target{Name: "tasks", AWS: &runbook.AWSTarget{Resource: "ecs:task",
		Filters: map[string][]string{"cluster": {"shop"}, "service": {"checkout"}}, Tags: checkout, Accounts: []string{labAccount}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 3 || members[0].Labels[LabelCluster] != "shop" || members[0].Labels["service"] != "checkout" {
		t.Fatalf("members %+v", members)
	}
	inj := &targets.Injection{RunID: "r-ecs", Attack: "kill a task", Kind: "ecs-stop-task", Member: members[0], Duration: time.Minute}
	preflightInject(ctx, t, e, inj)
	task, _ := srv.Task(members[0].Addr)
	if task.DesiredStatus != "STOPPED" || !strings.Contains(task.StoppedReason, "gameday run r-ecs") {
		t.Fatalf("task after inject: %+v", task)
	}
	// The rollback undoes nothing and says so: the task stays stopped.
	if res, err := e.Rollback(ctx, *inj); err != nil || !res.Nothing || !strings.HasPrefix(res.Output, "nothing to roll back") {
		t.Fatalf("rollback: %v, %+v", err, res)
	}
	if task, _ := srv.Task(members[0].Addr); task.DesiredStatus != "STOPPED" {
		t.Fatalf("task after rollback: %+v", task)
	}
	// The service replaces it, as ECS does.
	waitFor(t, "a replacement task", func() bool {
		running := 0
		for _, x := range srv.Tasks("shop") {
			if x.Service == "checkout" && x.LastStatus == "RUNNING" {
				running++
			}
		}
		return running == 3
	})
}

func TestLabRDSFailover(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	if err := srv.AddDBCluster(labaws.DBCluster{ID: "orders", Tags: checkout}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []labaws.DBInstance{{ID: "orders-1", Cluster: "orders"}, {ID: "orders-2", Cluster: "orders"}, {ID: "legacy", MultiAZ: true, Tags: checkout}, {ID: "single", Tags: checkout}} {
		if err := srv.AddDBInstance(in); err != nil {
			t.Fatal(err)
		}
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	clusters, err := e.Resolve(ctx, checkoutTarget("db", "rds:cluster"))
	if err != nil || len(clusters) != 1 || clusters[0].Labels[LabelWriter] != "orders-1" {
		t.Fatalf("clusters %+v, %v", clusters, err)
	}
	inj := &targets.Injection{RunID: "r-rds", Attack: "failover", Kind: "rds-failover", Member: clusters[0], Duration: time.Minute}
	preflightInject(ctx, t, e, inj)
	waitFor(t, "a new writer", func() bool { c, _ := srv.DBCluster("orders"); return c.Writer == "orders-2" })
	if _, err := e.Rollback(ctx, *inj); err != nil {
		t.Fatal(err)
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
	inj := &targets.Injection{RunID: "r-asg", Attack: "freeze", Kind: "asg-suspend-processes", Member: members[0], Duration: time.Minute,
		Params: map[string]string{"processes": "Launch,Terminate,AZRebalance"}}
	preflightInject(ctx, t, e, inj)
	g, _ := srv.AutoScalingGroup("web")
	if len(g.Suspended) != 3 {
		t.Fatalf("suspended after inject: %v", g.Suspended)
	}
	for i := 0; i < 2; i++ {
		if _, err := e.Rollback(ctx, *inj); err != nil {
			t.Fatalf("rollback %d: %v", i, err)
		}
	}
	g, _ = srv.AutoScalingGroup("web")
	if len(g.Suspended) != 1 || g.Suspended["AZRebalance"] != "suspended by the team" {
		t.Fatalf("suspended after rollback: %v", g.Suspended)
	}
}

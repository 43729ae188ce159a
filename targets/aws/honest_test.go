package aws

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// awsRunbook is a minimal runbook with one aws target and one attack.
func awsRunbook(resource, attack string) string {
	return fmt.Sprintf(`version: 1
name: t
metrics:
  url: http://127.0.0.1:9090
  panels:
    p95: {query: 'up', unit: seconds}
baseline: {duration: 1m, steady_state: {p95: "< 300ms"}}
hypothesis: {statement: s, expect: {p95: "< 500ms"}}
targets:
  db: {aws: {region: us-east-1, resource: %s, ids: [orders], accounts: ["123456789012"]}}
blast_radius:
  db: {count: 1}
attacks:
  - %s
`, resource, attack)
}

// Kinds that undo nothing take the same opt-in as ec2-reboot, at the
// attack's kind, with its position.
func TestUndoNothingKindsNeedTheOptIn(t *testing.T) {
	for _, c := range []struct{ resource, kind string }{{"rds:cluster", "rds-failover"}, {"ecs:task", "ecs-stop-task"}} {
		attack := fmt.Sprintf("{name: hit, target: db, kind: %s, duration: 1m}", c.kind)
		_, err := runbook.Parse("t.yaml", []byte(awsRunbook(c.resource, attack)), targets.Default())
		if want := "t.yaml:14:"; err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "kind "+c.kind+" cannot be rolled back; add allow_irreversible: true") {
			t.Errorf("%s without the opt-in: %v", c.kind, err)
		}
		attack = fmt.Sprintf("{name: hit, target: db, kind: %s, duration: 1m, allow_irreversible: true}", c.kind)
		if _, err := runbook.Parse("t.yaml", []byte(awsRunbook(c.resource, attack)), targets.Default()); err != nil {
			t.Errorf("%s with the opt-in: %v", c.kind, err)
		}
	}
}

// ec2-stop on an instance of an Auto Scaling group is refused at
// preflight, before anything is stopped, unless the runbook says it
// suspended the group's replacement first.
func TestLabEC2StopRefusesAnASGMember(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	seedFleet(t, srv, 2, checkout)
	if err := srv.AddAutoScalingGroup(labaws.AutoScalingGroup{Name: "checkout-asg", MinSize: 1, MaxSize: 2, Desired: 1, Instances: []string{labaws.InstanceID(1)}}); err != nil {
		t.Fatal(err)
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	members, err := e.Resolve(ctx, ec2Target(checkout, labAccount))
	if err != nil || len(members) != 2 {
		t.Fatalf("members %v, %v", members, err)
	}
	inj := targets.Injection{RunID: "r", Attack: "stop", Kind: "ec2-stop", Member: members[0], Duration: time.Minute, Params: map[string]string{"force": "false", "allow_asg": "false"}}
	err = e.Preflight(ctx, inj)
	if err == nil || !strings.Contains(err.Error(), "belongs to Auto Scaling group checkout-asg") || !strings.Contains(err.Error(), "asg-suspend-processes") {
		t.Fatalf("preflight on an ASG member: %v", err)
	}
	if n := srv.Calls("ec2:StopInstances"); n != 0 {
		t.Errorf("the refusal still called StopInstances %d times", n)
	}
	other := inj
	other.Member = members[1]
	if err := e.Preflight(ctx, other); err != nil {
		t.Errorf("preflight on an instance outside any group: %v", err)
	}
	inj.Params["allow_asg"] = "true"
	if err := e.Preflight(ctx, inj); err != nil {
		t.Errorf("preflight with allow_asg: %v", err)
	}
}

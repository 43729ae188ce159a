package aws

import (
	"context"
	"testing"
	"time"

	"github.com/gameday/gameday/lab"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// Every aws kind has something to land on in the lab (gameday lab up):
// each resolves against the lab's seeded resources, preflights, and, but
// for ec2-terminate which would take a host for good, injects and rolls
// back through the real SDK.
func TestLabHasEveryAWSKind(t *testing.T) {
	ctx := context.Background()
	l, e := startWholeLab(t)
	checkoutTags := map[string]string{"service": "checkout", "env": "lab"}
	tries := map[string]struct {
		target runbook.AWSTarget
		params map[string]string
	}{
		"ec2-stop":              {runbook.AWSTarget{Resource: "ec2:instance", Tags: checkoutTags}, nil},
		"ec2-reboot":            {runbook.AWSTarget{Resource: "ec2:instance", Tags: checkoutTags}, nil},
		"ec2-terminate":         {runbook.AWSTarget{Resource: "ec2:instance", Tags: checkoutTags}, nil},
		"ssm-command":           {runbook.AWSTarget{Resource: "ec2:instance", Tags: checkoutTags}, map[string]string{"attack": "lab-cpu", "load": "20"}},
		"fis-experiment":        {runbook.AWSTarget{Resource: "fis:experiment-template", IDs: []string{lab.FISTemplateID}}, nil},
		"lambda-throttle":       {runbook.AWSTarget{Resource: "lambda:function", Tags: checkoutTags}, nil},
		"lambda-fault":          {runbook.AWSTarget{Resource: "lambda:function", IDs: []string{lab.FunctionName}}, map[string]string{"error_rate": "10%"}},
		"ecs-stop-task":         {runbook.AWSTarget{Resource: "ecs:task", Filters: map[string][]string{"cluster": {lab.ECSCluster}, "service": {lab.ECSService}}}, nil},
		"rds-failover":          {runbook.AWSTarget{Resource: "rds:cluster", IDs: []string{lab.DBClusterID}}, nil},
		"asg-suspend-processes": {runbook.AWSTarget{Resource: "autoscaling:group", Tags: checkoutTags}, map[string]string{"processes": "Launch,Terminate"}},
		"sg-blackhole":          {runbook.AWSTarget{Resource: "ec2:security-group", IDs: []string{lab.SecurityGroupID}}, map[string]string{"protocol": "tcp", "port": "443"}},
		"dynamodb-capacity":     {runbook.AWSTarget{Resource: "dynamodb:table", Tags: checkoutTags}, nil},
	}
	cat := targets.Default()
	for _, kind := range Kinds() {
		t.Run(kind, func(t *testing.T) {
			try, ok := tries[kind]
			if !ok {
				t.Fatalf("no lab resource listed for kind %s", kind)
			}
			a := try.target
			a.Region, a.Accounts = l.AWS.Region, []string{l.AWS.Account}
			members, err := e.Resolve(ctx, runbook.Target{Name: "lab", AWS: &a})
			if err != nil {
				t.Fatal(err)
			}
			if len(members) == 0 {
				t.Fatalf("%s matched nothing in the lab", a.Resource)
			}
			k, _ := cat.Spec(kind)
			v, probs := k.Parse(try.params)
			if len(probs) > 0 {
				t.Fatalf("params: %+v", probs)
			}
			params := map[string]string{}
			for _, n := range v.Names() {
				params[n] = v.String(n)
			}
			inj := &targets.Injection{RunID: "r-kinds", Attack: kind, Kind: kind, Member: members[0], Params: params, Duration: time.Minute}
			if err := e.Preflight(ctx, *inj); err != nil {
				t.Fatal(err)
			}
			if kind == "ec2-terminate" {
				return
			}
			if _, err := e.Inject(ctx, inj); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Rollback(ctx, *inj); err != nil {
				t.Fatal(err)
			}
		})
	}
}

package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

func labRules(g labaws.SecurityGroup) []string {
	var out []string
	for _, r := range g.Rules {
		out = append(out, fmt.Sprintf("egress=%v %s %d-%d %s%s%s %q", r.Egress, r.Protocol, r.FromPort, r.ToPort, r.CIDR, r.CIDRv6, r.Group, r.Description))
	}
	slices.Sort(out)
	return out
}

func TestLabSGBlackhole(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	web := labaws.SecurityGroup{ID: "sg-0123456789abcdef0", Name: "web", VPC: "vpc-1", Tags: map[string]string{"service": "checkout"}, Rules: []labaws.Rule{
		{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDR: "10.0.0.0/16", Description: "from the load balancer"},
		{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "10.9.0.0/24"},
		{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRv6: "2001:db8::/32"},
		{Protocol: "tcp", FromPort: 8000, ToPort: 9000, Group: "sg-0fedcba9876543210"},
		{Egress: true, Protocol: "-1", FromPort: -1, ToPort: -1, CIDR: "0.0.0.0/0"},
	}}
	if err := srv.AddSecurityGroup(web); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddInstance(labaws.Instance{ID: labaws.InstanceID(1), SecurityGroups: []string{web.ID}, Tags: checkout}); err != nil {
		t.Fatal(err)
	}
	before, _ := srv.SecurityGroup(web.ID)
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()

	for _, target := range []runbook.Target{
		{Name: "groups", AWS: &runbook.AWSTarget{Resource: "ec2:security-group", Tags: checkout, Accounts: []string{labAccount}}},
		ec2Target(checkout, labAccount),
	} {
		members, err := e.Resolve(ctx, target)
		if err != nil || len(members) != 1 {
			t.Fatalf("%s: %v, %v", target.AWS.Resource, members, err)
		}
		inj := &targets.Injection{RunID: "r-sg", Attack: "cut https", Kind: "sg-blackhole", Member: members[0], Duration: time.Minute,
			Params: map[string]string{"direction": "ingress", "protocol": "tcp", "port": "443"}}
		if err := e.Preflight(ctx, *inj); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Inject(ctx, inj); err != nil {
			t.Fatal(err)
		}
		now, _ := srv.SecurityGroup(web.ID)
		if len(now.Rules) != 3 {
			t.Fatalf("%s: rules after inject: %v", target.AWS.Resource, labRules(now))
		}
		for i := 0; i < 2; i++ {
			if _, err := e.Rollback(ctx, *inj); err != nil {
				t.Fatalf("%s rollback %d: %v", target.AWS.Resource, i, err)
			}
		}
		now, _ = srv.SecurityGroup(web.ID)
		if got, want := strings.Join(labRules(now), "\n"), strings.Join(labRules(before), "\n"); got != want {
			t.Fatalf("%s: rules after rollback:\n%s\nwant\n%s", target.AWS.Resource, got, want)
		}
	}

	// Without permission (the read-only key is denied
	// RevokeSecurityGroupIngress), the DryRun preflight says so.
	ro := labExecutor(t, srv, "AKIDREADONLY")
	members, err := ro.Resolve(ctx, ec2Target(checkout, labAccount))
	if err != nil {
		t.Fatal(err)
	}
	err = ro.Preflight(ctx, targets.Injection{RunID: "r", Attack: "a", Kind: "sg-blackhole", Member: members[0], Params: map[string]string{"direction": "ingress"}})
	if err == nil || !strings.Contains(err.Error(), "not permitted") {
		t.Fatalf("preflight without permission: %v", err)
	}
}

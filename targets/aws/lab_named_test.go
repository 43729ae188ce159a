package aws

import (
	"context"
	"strings"
	"testing"

	labaws "github.com/gameday/gameday/lab/aws"
)

// A resource the runbook names by id but that lacks the target's tags (or
// is outside its filters) is refused, naming it and what it lacks, for
// every resource type: dropping it would run the attack on fewer members
// than the runbook lists, and the blast radius would say so nowhere.
func TestLabNamedResourceOutsideTheTargetIsRefused(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	other := map[string]string{"service": "search"}
	inCheckout, err := srv.AddTask(labaws.Task{Cluster: "shop", Service: "checkout-api", Tags: checkout})
	if err != nil {
		t.Fatal(err)
	}
	untagged, err := srv.AddTask(labaws.Task{Cluster: "shop", Service: "checkout-api", Tags: other})
	if err != nil {
		t.Fatal(err)
	}
	elsewhere, err := srv.AddTask(labaws.Task{Cluster: "shop", Service: "search-api", Tags: checkout})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		srv.AddDBCluster(labaws.DBCluster{ID: "orders", Tags: checkout}),
		srv.AddDBCluster(labaws.DBCluster{ID: "search", Tags: other}),
		srv.AddDBInstance(labaws.DBInstance{ID: "orders-1", Cluster: "orders", Tags: checkout}),
		srv.AddDBInstance(labaws.DBInstance{ID: "legacy", MultiAZ: true, Tags: other}),
		srv.AddSecurityGroup(labaws.SecurityGroup{ID: "sg-0000000000000000a", Name: "web", Tags: checkout}),
		srv.AddSecurityGroup(labaws.SecurityGroup{ID: "sg-0000000000000000b", Name: "search", Tags: other}),
		srv.AddAutoScalingGroup(labaws.AutoScalingGroup{Name: "workers", Tags: checkout}),
		srv.AddAutoScalingGroup(labaws.AutoScalingGroup{Name: "indexers", Tags: other}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	shop := map[string][]string{"cluster": {"shop"}, "service": {"checkout-api"}}
	for _, c := range []struct {
		resource string
		filters  map[string][]string
		good     string
		bad      []string // each refused, with good beside it
		want     string
	}{
		{"ecs:task", shop, inCheckout, []string{untagged, taskID(elsewhere)}, "named in ids is not a member: it does not carry the target's tags (service=checkout) or does not match its filters"},
		{"rds:cluster", nil, "orders", []string{"search"}, "rds cluster search named in ids is not a member: it does not carry the target's tags (service=checkout)"},
		{"rds:instance", nil, "orders-1", []string{"legacy"}, "rds instance legacy named in ids is not a member"},
		{"ec2:security-group", nil, "sg-0000000000000000a", []string{"sg-0000000000000000b"}, "security group sg-0000000000000000b named in ids is not a member"},
		{"autoscaling:group", nil, "workers", []string{"indexers"}, "auto scaling group indexers named in ids is not a member"},
	} {
		target := checkoutTarget("named", c.resource)
		target.AWS.Filters = c.filters
		target.AWS.IDs = []string{c.good}
		ms, err := e.Resolve(context.Background(), target)
		if err != nil || len(ms) != 1 {
			t.Errorf("%s %s: %d members, %v; want the one named", c.resource, c.good, len(ms), err)
		}
		for _, bad := range c.bad {
			target.AWS.IDs = []string{c.good, bad}
			ms, err := e.Resolve(context.Background(), target)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), bad) {
				t.Errorf("%s named %s: %d members, error %v; want it refused, naming it (%q)", c.resource, bad, len(ms), err, c.want)
			}
		}
	}
	// Named by a short id or an ARN alike.
	target := checkoutTarget("named", "ecs:task")
	target.AWS.Filters, target.AWS.IDs = shop, []string{taskID(inCheckout)}
	if ms, err := e.Resolve(context.Background(), target); err != nil || len(ms) != 1 {
		t.Errorf("a task named by its id: %d members, %v", len(ms), err)
	}
}

// taskID is a task ARN's last part, the task id.
func taskID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

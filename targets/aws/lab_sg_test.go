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

// seedWebGroup adds a checkout group with https (IPv4 and IPv6), ssh, a
// port range from another group and all-traffic egress, and instance 1 of
// checkout behind it and behind the other groups given.
func seedWebGroup(t *testing.T, srv *labaws.Server, others ...string) labaws.SecurityGroup {
	t.Helper()
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
	if err := srv.AddInstance(labaws.Instance{ID: labaws.InstanceID(1), SecurityGroups: append([]string{web.ID}, others...), Tags: checkout}); err != nil {
		t.Fatal(err)
	}
	web, _ = srv.SecurityGroup(web.ID)
	return web
}

func TestLabSGBlackhole(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	web := seedWebGroup(t, srv)
	before, _ := srv.SecurityGroup(web.ID)
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()

	for _, target := range []runbook.Target{
		checkoutTarget("groups", "ec2:security-group"),
		ec2Target(checkout, labAccount),
	} {
		members, err := e.Resolve(ctx, target)
		if err != nil || len(members) != 1 {
			t.Fatalf("%s: %v, %v", target.AWS.Resource, members, err)
		}
		inj := &targets.Injection{RunID: "r-sg", Attack: "cut https", Kind: "sg-blackhole", Member: members[0], Duration: time.Minute,
			Params: map[string]string{"direction": "ingress", "protocol": "tcp", "port": "443"}}
		preflightInject(ctx, t, e, inj)
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

// A tcp/443 blackhole on a group that six instances share, as issue
// reports had it: the all-traffic egress rule stays, the five other
// instances are named (and refused on an instance target unless shared),
// and the plan lists the exact rules with the direction default.
func TestLabSGBlackholeShowsAllItDoes(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	web, all := seedSharedGroup(t, srv)
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	params := map[string]string{"protocol": "tcp", "port": "443", "direction": "both", "shared": "false"}
	inj := sharedGroupRefused(t, ctx, e, srv, web, all, params)
	groupBlackholeRoundTrip(t, ctx, e, srv, web, all, params)

	// shared: true takes the instance target through, and after its
	// preflight the dry-run plan names the rules and all six instances.
	inj.Params = map[string]string{"protocol": "tcp", "port": "443", "direction": "ingress", "shared": "true"}
	if err := e.Preflight(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(e.Plan(*inj), "\n")
	if !strings.Contains(plan, "inject: revoke "+web.ID+" ingress from 10.0.0.0/16 tcp 443-443") || !strings.Contains(plan, "cuts the 6 instance(s)") {
		t.Errorf("plan after preflight:\n%s", plan)
	}
}

// seedSharedGroup adds a group with https, ssh and all-traffic egress rules,
// and six instances behind it, the first of checkout.
func seedSharedGroup(t *testing.T, srv *labaws.Server) (web labaws.SecurityGroup, all []string) {
	web = labaws.SecurityGroup{ID: "sg-0123456789abcdef0", Name: "web", VPC: "vpc-1", Tags: checkout, Rules: []labaws.Rule{
		{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDR: "10.0.0.0/16"},
		{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "10.9.0.0/24"},
		{Egress: true, Protocol: "-1", FromPort: -1, ToPort: -1, CIDR: "0.0.0.0/0"},
	}}
	if err := srv.AddSecurityGroup(web); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 6; i++ {
		tags := map[string]string{"service": "search"}
		if i == 1 {
			tags = checkout
		}
		if err := srv.AddInstance(labaws.Instance{ID: labaws.InstanceID(i), SecurityGroups: []string{web.ID}, Tags: tags}); err != nil {
			t.Fatal(err)
		}
		all = append(all, labaws.InstanceID(i))
	}
	return web, all
}

// sharedGroupRefused: on an instance target the blast radius shows one
// instance; the other five behind the group are a reason to refuse, and the
// refused inject changes nothing.
func sharedGroupRefused(t *testing.T, ctx context.Context, e *Executor, srv *labaws.Server, web labaws.SecurityGroup, all []string, params map[string]string) *targets.Injection {
	members, err := e.Resolve(ctx, ec2Target(checkout, labAccount))
	if err != nil || len(members) != 1 {
		t.Fatalf("members %v, %v", members, err)
	}
	inj := &targets.Injection{RunID: "r-sg", Attack: "cut https", Kind: "sg-blackhole", Member: members[0], Duration: time.Minute, Params: params}
	err = e.Preflight(ctx, *inj)
	if err == nil || !strings.Contains(err.Error(), "also attached to 5 other instance(s) outside this member: "+strings.Join(all[1:], ", ")) {
		t.Fatalf("preflight on a shared group: %v", err)
	}
	if _, err := e.Inject(ctx, inj); err == nil {
		t.Fatal("inject on a shared group went ahead")
	}
	if now, _ := srv.SecurityGroup(web.ID); len(now.Rules) != 3 {
		t.Fatalf("a refused inject changed the group: %v", labRules(now))
	}
	return inj
}

// groupBlackholeRoundTrip: targeting the group, its members record who is
// behind it, the plan lists every rule it removes and keeps before any call,
// and the rollback restores the rules as they were.
func groupBlackholeRoundTrip(t *testing.T, ctx context.Context, e *Executor, srv *labaws.Server, web labaws.SecurityGroup, all []string, params map[string]string) {
	before, _ := srv.SecurityGroup(web.ID)
	groups, err := e.Resolve(ctx, runbook.Target{Name: "groups", AWS: &runbook.AWSTarget{Resource: "ec2:security-group", IDs: []string{web.ID}, Accounts: []string{labAccount}}})
	if err != nil || len(groups) != 1 || groups[0].Labels[LabelAttached] != strings.Join(all, ",") {
		t.Fatalf("group members %v, %v", groups, err)
	}
	ginj := &targets.Injection{RunID: "r-sg", Attack: "cut https", Kind: "sg-blackhole", Member: groups[0], Duration: time.Minute, Params: params}
	plan := strings.Join(e.Plan(*ginj), "\n")
	for _, want := range []string{
		"direction both (ingress and egress, the default)",
		"inject: revoke " + web.ID + " ingress from 10.0.0.0/16 tcp 443-443",
		"inject: keep " + web.ID + " egress to 0.0.0.0/0 all: it allows every protocol, more than tcp; what it allows is not cut",
		"inject: cuts the 6 instance(s) behind " + web.ID + ": " + strings.Join(all, ", "),
		"does not cut connections already open",
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	if strings.Contains(plan, "revoke "+web.ID+" ingress from 10.9.0.0/24") {
		t.Errorf("plan revokes the ssh rule:\n%s", plan)
	}
	if err := e.Preflight(ctx, *ginj); err != nil {
		t.Fatal(err)
	}
	res, err := e.Inject(ctx, ginj)
	if err != nil {
		t.Fatal(err)
	}
	now, _ := srv.SecurityGroup(web.ID)
	if got := strings.Join(labRules(now), "\n"); len(now.Rules) != 2 || !strings.Contains(got, "egress=true -1") || !strings.Contains(got, "tcp 22-22") {
		t.Fatalf("after inject:\n%s\n(output %q)", got, res.Output)
	}
	if !strings.Contains(res.Output, "revoked "+web.ID+" ingress from 10.0.0.0/16 tcp 443-443") || !strings.Contains(res.Output, "keep "+web.ID+" egress") {
		t.Errorf("inject output %q", res.Output)
	}
	if _, err := e.Rollback(ctx, *ginj); err != nil {
		t.Fatal(err)
	}
	now, _ = srv.SecurityGroup(web.ID)
	if got, want := strings.Join(labRules(now), "\n"), strings.Join(labRules(before), "\n"); got != want {
		t.Fatalf("after rollback:\n%s\nwant\n%s", got, want)
	}
}

// wantRules fails the test unless group holds exactly the rules of want
// that cut leaves, descriptions included; when says at which step.
func wantRules(t *testing.T, srv *labaws.Server, want labaws.SecurityGroup, cut func(labaws.Rule) bool, when string) {
	t.Helper()
	want.Rules = slices.DeleteFunc(slices.Clone(want.Rules), cut)
	now, _ := srv.SecurityGroup(want.ID)
	if got, want := strings.Join(labRules(now), "\n"), strings.Join(labRules(want), "\n"); got != want {
		t.Fatalf("%s: rules of %s:\n%s\nwant\n%s", when, now.ID, got, want)
	}
}

// keepAll and ingressPort are the cuts wantRules is given: none, or the
// tcp ingress rules of one port.
func keepAll(labaws.Rule) bool { return false }

func ingressPort(port int) func(labaws.Rule) bool {
	return func(r labaws.Rule) bool { return !r.Egress && r.Protocol == "tcp" && r.FromPort == port }
}

// A group target records the group's rules at resolution, so a rollback
// whose inject record was lost still brings back exactly what was taken;
// an attack that would take nothing is refused, naming what it keeps.
func TestLabSGBlackholeGroupRecord(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	web := seedWebGroup(t, srv)
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	members, err := e.Resolve(ctx, runbook.Target{Name: "groups", AWS: &runbook.AWSTarget{Resource: "ec2:security-group", IDs: []string{web.ID}, Accounts: []string{labAccount}}})
	if err != nil || len(members) != 1 {
		t.Fatalf("members %+v, %v", members, err)
	}
	for _, r := range web.Rules {
		if !strings.Contains(members[0].Labels[LabelRules], r.ID) {
			t.Errorf("rule %s of %s is not recorded at resolution: %s", r.ID, web.ID, members[0].Labels[LabelRules])
		}
	}
	inj := &targets.Injection{RunID: "r-sg", Attack: "cut https", Kind: "sg-blackhole", Member: members[0], Duration: time.Minute,
		Params: map[string]string{"direction": "ingress", "protocol": "tcp", "port": "443"}}
	if err := e.Preflight(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	wantRules(t, srv, web, keepAll, "after preflight")
	if _, err := e.Inject(ctx, inj); err != nil {
		t.Fatal(err)
	}
	wantRules(t, srv, web, ingressPort(443), "after inject")
	lost := *inj
	lost.State = nil
	for i, x := range []targets.Injection{lost, *inj} {
		if res, err := e.Rollback(ctx, x); err != nil {
			t.Fatalf("rollback %d: %v (%s)", i, err, res.Output)
		}
		wantRules(t, srv, web, keepAll, fmt.Sprintf("after rollback %d", i))
	}

	// Only the all-traffic egress rule covers tcp 5432 to 192.168.0.0/24: a
	// protocol-scoped attack does not take it, and the refusal names it.
	none := targets.Injection{RunID: "r-sg", Attack: "a", Kind: "sg-blackhole", Member: members[0],
		Params: map[string]string{"protocol": "tcp", "port": "5432", "direction": "egress", "cidr": "192.168.0.0/24"}}
	if err := e.Preflight(ctx, none); err == nil || !strings.Contains(err.Error(), "no rule of "+web.ID+" matches") ||
		!strings.Contains(err.Error(), "never removed by a protocol-scoped attack: "+web.ID+" egress to 0.0.0.0/0 all") {
		t.Fatalf("egress tcp 5432 to 192.168.0.0/24: %v", err)
	}
	none.Params["protocol"] = "all"
	delete(none.Params, "port")
	if err := e.Preflight(ctx, none); err != nil {
		t.Fatalf("egress 0.0.0.0/0 covers 192.168.0.0/24 for every protocol: %v", err)
	}
	none.Params["direction"] = "ingress"
	if err := e.Preflight(ctx, none); err == nil || !strings.Contains(err.Error(), "no rule of "+web.ID+" matches") {
		t.Errorf("nothing to revoke: %v", err)
	}
	wantRules(t, srv, web, keepAll, "after the preflights")
}

// An instance target does not record its groups' rules: a rollback whose
// inject record was lost refuses rather than guess, and the group_id param
// must name a group of the instance.
func TestLabSGBlackholeInstanceRecord(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	other := labaws.SecurityGroup{ID: "sg-0aaaaaaaaaaaaaaaa", Name: "other", VPC: "vpc-1"}
	if err := srv.AddSecurityGroup(other); err != nil {
		t.Fatal(err)
	}
	web := seedWebGroup(t, srv, other.ID)
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	members, err := e.Resolve(ctx, ec2Target(checkout, labAccount))
	if err != nil || len(members) != 1 {
		t.Fatalf("members %+v, %v", members, err)
	}
	stranger := targets.Injection{RunID: "r-sg", Attack: "a", Kind: "sg-blackhole", Member: members[0], Params: map[string]string{"group_id": "sg-0bbbbbbbbbbbbbbbb"}}
	if err := e.Preflight(ctx, stranger); err == nil || !strings.Contains(err.Error(), "sg-0bbbbbbbbbbbbbbbb is not attached") {
		t.Errorf("a group not attached: %v", err)
	}
	inj := &targets.Injection{RunID: "r-sg", Attack: "cut ssh", Kind: "sg-blackhole", Member: members[0], Duration: time.Minute,
		Params: map[string]string{"direction": "ingress", "protocol": "tcp", "port": "22"}}
	preflightInject(ctx, t, e, inj)
	wantRules(t, srv, web, ingressPort(22), "after inject")
	lost := *inj
	lost.State = nil
	if _, err := e.Rollback(ctx, lost); err == nil || !strings.Contains(err.Error(), "not recorded") {
		t.Errorf("rollback without a record on an instance target: %v", err)
	}
	wantRules(t, srv, web, ingressPort(22), "after the refused rollback")
	if _, err := e.Rollback(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	wantRules(t, srv, web, keepAll, "after rollback")
}

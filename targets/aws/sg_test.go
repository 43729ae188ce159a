package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

func webRules() []sgRule {
	return []sgRule{
		{ID: "sgr-1", Group: "sg-web", Protocol: "tcp", From: 443, To: 443, CIDR4: "10.0.0.0/16", Desc: "from the load balancer"},
		{ID: "sgr-2", Group: "sg-web", Protocol: "tcp", From: 22, To: 22, CIDR4: "10.9.0.0/24"},
		{ID: "sgr-3", Group: "sg-web", Protocol: "-1", From: -1, To: -1, CIDR4: "10.0.5.0/24"},
		{ID: "sgr-4", Group: "sg-web", Egress: true, Protocol: "-1", From: -1, To: -1, CIDR4: "0.0.0.0/0"},
		{ID: "sgr-5", Group: "sg-web", Protocol: "tcp", From: 8000, To: 9000, Peer: "sg-lb"},
	}
}

func ids(rules []sgRule) string {
	var out []string
	for _, r := range rules {
		out = append(out, r.ID)
	}
	return strings.Join(out, ",")
}

func TestSGRuleMatching(t *testing.T) {
	e := New(Options{})
	k, _ := e.cat.Spec("sg-blackhole")
	// A protocol-scoped attack never takes a rule for every protocol
	// (sgr-3, sgr-4): it keeps them, and says so.
	cases := []struct {
		params     map[string]string
		want, kept string
	}{
		{map[string]string{}, "sgr-1,sgr-2,sgr-3,sgr-4,sgr-5", ""},
		{map[string]string{"direction": "ingress", "protocol": "tcp", "port": "443"}, "sgr-1", "sgr-3"},
		{map[string]string{"protocol": "tcp", "port": "443"}, "sgr-1", "sgr-3,sgr-4"},
		{map[string]string{"direction": "ingress", "protocol": "tcp", "port": "8080"}, "sgr-5", "sgr-3"},
		{map[string]string{"cidr": "10.0.5.7"}, "sgr-1,sgr-3,sgr-4", ""},
		{map[string]string{"direction": "egress"}, "sgr-4", ""},
		{map[string]string{"protocol": "udp"}, "", "sgr-3,sgr-4"},
	}
	for _, c := range cases {
		v, probs := k.Parse(c.params)
		if len(probs) > 0 {
			t.Fatal(probs)
		}
		p := pick([]string{"sg-web"}, webRules(), v)
		if ids(p.revoke) != c.want || ids(p.kept) != c.kept {
			t.Errorf("%v takes %s and keeps %s, want %s and %s", c.params, ids(p.revoke), ids(p.kept), c.want, c.kept)
		}
	}
}

// A rule wider than the port it is taken for says what else it cuts.
func TestSGWiderRule(t *testing.T) {
	k, _ := New(Options{}).cat.Spec("sg-blackhole")
	v, _ := k.Parse(map[string]string{"protocol": "tcp", "port": "8080"})
	if got := wider(webRules()[4], v); got != " (it covers ports 8000-9000: all of them are cut, not only 8080)" {
		t.Errorf("wider: %q", got)
	}
	v, _ = k.Parse(map[string]string{"protocol": "tcp", "port": "443"})
	if got := wider(webRules()[0], v); got != "" {
		t.Errorf("a rule for exactly the port: %q", got)
	}
}

func TestSGBlackholeRestoresExactlyTheRules(t *testing.T) {
	f := &fakeSG{rules: webRules()}
	e := fakeExecutor(t, &Clients{STS: &fakeSTS{account: fakeAccount}, EC2: f})
	members := resolveFake(t, e, runbook.AWSTarget{Resource: "ec2:security-group", IDs: []string{"sg-web"}})
	if len(members) != 1 || !strings.Contains(members[0].Labels[LabelRules], "sgr-5") {
		t.Fatalf("members %+v", members)
	}
	ctx := context.Background()
	inj := &targets.Injection{RunID: "r1", Attack: "cut https", Kind: "sg-blackhole", Member: members[0], Duration: time.Minute,
		Params: map[string]string{"direction": "ingress", "protocol": "tcp", "port": "443"}}
	if err := e.Preflight(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	if len(f.rules) != 5 {
		t.Fatal("preflight changed the group")
	}
	if _, err := e.Inject(ctx, inj); err != nil {
		t.Fatal(err)
	}
	if ids(f.rules) != "sgr-2,sgr-3,sgr-4,sgr-5" {
		t.Fatalf("rules after inject: %s", ids(f.rules))
	}
	// From the journal alone, twice: the group's rules recorded at
	// resolution bring back exactly what was taken out.
	lost := *inj
	lost.State = nil
	for i, x := range []targets.Injection{lost, *inj} {
		res, err := e.Rollback(ctx, x)
		if err != nil {
			t.Fatalf("rollback %d: %v", i, err)
		}
		if len(f.rules) != 5 {
			t.Fatalf("rollback %d: %d rules (%s)", i, len(f.rules), res.Output)
		}
	}
	back := map[string]sgRule{}
	for _, r := range f.rules {
		back[r.String()] = r
	}
	for _, r := range webRules() {
		got, ok := back[r.String()]
		if !ok || got.Desc != r.Desc {
			t.Errorf("rule %s not restored exactly: %+v", r, got)
		}
	}
	// Nothing matching is a preflight failure, not a silent no-op.
	// Only the all-traffic egress rule covers tcp 5432 to 192.168.0.0/24:
	// it is not taken, and the refusal names it.
	none := targets.Injection{RunID: "r1", Attack: "a", Kind: "sg-blackhole", Member: members[0], Params: map[string]string{"protocol": "tcp", "port": "5432", "direction": "egress", "cidr": "192.168.0.0/24"}}
	if err := e.Preflight(ctx, none); err == nil || !strings.Contains(err.Error(), "no rule of sg-web matches") || !strings.Contains(err.Error(), "never removed by a protocol-scoped attack: sg-web egress to 0.0.0.0/0 all") {
		t.Fatalf("egress 0.0.0.0/0 for every protocol: %v", err)
	}
	none.Params["protocol"] = "all"
	delete(none.Params, "port")
	if err := e.Preflight(ctx, none); err != nil {
		t.Fatalf("egress 0.0.0.0/0 covers 192.168.0.0/24 for every protocol: %v", err)
	}
	none.Params["direction"] = "ingress"
	if err := e.Preflight(ctx, none); err == nil || !strings.Contains(err.Error(), "no rule of sg-web matches") {
		t.Errorf("nothing to revoke: %v", err)
	}
}

func TestSGBlackholeOnInstances(t *testing.T) {
	f := &fakeSG{rules: webRules()}
	e := fakeExecutor(t, &Clients{STS: &fakeSTS{account: fakeAccount}, EC2: f})
	m := member("i-1", fakeAccount, map[string]string{LabelResource: "ec2:instance", LabelGroups: "sg-web,sg-other"})
	ctx := context.Background()
	if err := e.Preflight(ctx, targets.Injection{Kind: "sg-blackhole", Member: m, Params: map[string]string{"group_id": "sg-0123456789abcdef0"}}); err == nil || !strings.Contains(err.Error(), "not attached") {
		t.Errorf("a group not attached: %v", err)
	}
	inj := &targets.Injection{RunID: "r1", Attack: "cut ssh", Kind: "sg-blackhole", Member: m, Duration: time.Minute,
		Params: map[string]string{"direction": "ingress", "protocol": "tcp", "port": "22"}}
	if _, err := e.Inject(ctx, inj); err != nil {
		t.Fatal(err)
	}
	if ids(f.rules) != "sgr-1,sgr-3,sgr-4,sgr-5" {
		t.Fatalf("rules after inject: %s", ids(f.rules))
	}
	lost := *inj
	lost.State = nil
	if _, err := e.Rollback(ctx, lost); err == nil || !strings.Contains(err.Error(), "not recorded") {
		t.Errorf("rollback without a record on an instance target: %v", err)
	}
	if _, err := e.Rollback(ctx, *inj); err != nil || len(f.rules) != 5 {
		t.Fatalf("rollback: %v, %s", err, ids(f.rules))
	}
}

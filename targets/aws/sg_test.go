package aws

import (
	"strings"
	"testing"
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

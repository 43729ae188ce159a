package main

import (
	"testing"

	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/aws"
)

// TestOnThisMachineAWSEndpoint: a cloud member is on this machine only
// when the endpoint that acts on it is on loopback, whatever its id says.
func TestOnThisMachineAWSEndpoint(t *testing.T) {
	member := func(id, addr, endpoint string) targets.Member {
		l := map[string]string{aws.LabelRegion: "us-east-1", aws.LabelAccount: "123456789012"}
		if endpoint != "" {
			l[aws.LabelEndpoint] = endpoint
		}
		return targets.Member{ID: id, Addr: addr, Labels: l}
	}
	cases := []struct {
		m    targets.Member
		want bool
	}{
		{member("i-00000000000000001", "", "http://127.0.0.1:42317"), true},
		{member("i-00000000000000001", "", "http://localhost:4566"), true},
		{member("i-00000000000000001", "", "https://[::1]:4566/"), true},
		{member("i-00000000000000001", "", ""), false},
		{member("i-00000000000000001", "", "https://ec2.us-east-1.amazonaws.com"), false},
		{member("i-00000000000000001", "", "http://10.0.0.5:4566"), false},
		{member("i-00000000000000001", "", "http://127.0.0.1.nip.io:4566"), false},
		{member("i-00000000000000001", "", "127.0.0.1:4566"), false}, // not a URL
		{member("orders", "arn:aws:lambda:us-east-1:123456789012:function:orders", "http://127.0.0.1:4566"), true},
		{member("orders", "arn:aws:lambda:us-east-1:123456789012:function:orders", ""), false},
		// A real endpoint wins over an address that looks local.
		{member("x", "127.0.0.1:22", "https://ec2.us-east-1.amazonaws.com"), false},
		// Members without the label keep the address rule.
		{targets.Member{ID: "checkout-1", Addr: "127.0.0.1:2222"}, true},
		{targets.Member{ID: "web-1", Addr: "192.0.2.10:22"}, false},
	}
	for _, c := range cases {
		if got := onThisMachine(c.m); got != c.want {
			t.Errorf("onThisMachine(id %s, addr %q, endpoint %q) = %v, want %v", c.m.ID, c.m.Addr, c.m.Labels[aws.LabelEndpoint], got, c.want)
		}
	}
}

package aws

import (
	"context"
	"strings"
	"testing"

	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/runbook"
)

// A selector broader than meant stops at resolution, before the blast
// radius: more than 50 members, or most of the account's instances, unless
// the runbook raises max_members.
func TestLabSelectorLimits(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	seedFleet(t, srv, 60, checkout)
	for i := 61; i <= 80; i++ {
		tags := map[string]string{"service": "search"}
		if i <= 66 {
			tags = map[string]string{"service": "search", "tier": "small"}
		}
		if err := srv.AddInstance(labaws.Instance{ID: labaws.InstanceID(i), Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	target := func(tags map[string]string, max int) runbook.Target {
		tg := ec2Target(tags, labAccount)
		tg.AWS.MaxMembers = max
		return tg
	}
	cases := []struct {
		name string
		t    runbook.Target
		n    int
		err  string
	}{
		{"60 by default", target(checkout, 0), 0, "resolved to 60 members, more than the 50 an aws target may have unless its runbook sets max_members"},
		{"60 under max_members 59", target(checkout, 59), 0, "resolved to 60 members, more than its max_members of 59"},
		{"60 under max_members 60", target(checkout, 60), 60, ""},
		{"20 of 80 by tag", target(map[string]string{"service": "search"}, 0), 20, ""},
		{"6 small ones", target(map[string]string{"tier": "small"}, 0), 6, ""},
	}
	for _, c := range cases {
		ms, err := e.Resolve(ctx, c.t)
		switch {
		case c.err == "" && (err != nil || len(ms) != c.n):
			t.Errorf("%s: %d members, %v", c.name, len(ms), err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: %v, want %q", c.name, err, c.err)
		}
	}

	// Most of a smaller account: 20 search instances of 25.
	small := startLab(t, labaws.Hooks{})
	for i := 1; i <= 25; i++ {
		tags := map[string]string{"service": "search"}
		if i > 20 {
			tags = checkout
		}
		if err := small.AddInstance(labaws.Instance{ID: labaws.InstanceID(i), Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	e = labExecutor(t, small, "AKIDGAMEDAY")
	_, err := e.Resolve(ctx, target(map[string]string{"service": "search"}, 0))
	if err == nil || !strings.Contains(err.Error(), "resolved to 20 of the account's 25 instances in us-east-1, more than half") {
		t.Errorf("most of the account: %v", err)
	}
	if ms, err := e.Resolve(ctx, target(map[string]string{"service": "search"}, 20)); err != nil || len(ms) != 20 {
		t.Errorf("most of the account with max_members: %d, %v", len(ms), err)
	}
	// Named ids are what the runbook means, however much of the account.
	tg := ec2Target(nil, labAccount)
	for i := 1; i <= 20; i++ {
		tg.AWS.IDs = append(tg.AWS.IDs, labaws.InstanceID(i))
	}
	if ms, err := e.Resolve(ctx, tg); err != nil || len(ms) != 20 {
		t.Errorf("20 named ids: %d, %v", len(ms), err)
	}
}

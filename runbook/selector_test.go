package runbook

import (
	"strings"
	"testing"
)

// Every empty selector form is refused at its own position: an empty
// templated value must not turn a target into the whole account.
func TestEmptyAWSSelectors(t *testing.T) {
	head := `version: 1
name: t
metrics:
  url: http://127.0.0.1:9090
  panels:
    p95: {query: 'up', unit: seconds}
baseline: {duration: 1m, steady_state: {p95: "< 300ms"}}
hypothesis: {statement: s, expect: {p95: "< 500ms"}}
targets:
  fleet:
    aws:
      region: us-east-1
      resource: ec2:instance
      accounts: ["123456789012"]
`
	tail := `blast_radius:
  fleet: {count: 1}
attacks:
  - {name: stop, target: fleet, kind: ec2-stop, duration: 1m}
`
	for _, c := range []struct {
		name, sel string
		want      []string
	}{
		{"empty tags", "      tags: {}\n", []string{"t.yaml:15:7: targets.fleet.aws.tags: expected at least one tag such as {service: checkout}; empty tags would select every ec2:instance in the account"}},
		{"empty ids", "      ids: []\n", []string{"t.yaml:15:7: targets.fleet.aws.ids: expected at least one id; an empty list would select every ec2:instance in the account"}},
		{"empty filters", "      filters: {}\n", []string{"t.yaml:15:7: targets.fleet.aws.filters: expected at least one filter such as {az: [us-east-1a]}; empty filters would select every ec2:instance in the account"}},
		{"a filter without values", "      filters: {az: []}\n", []string{"t.yaml:15:7: targets.fleet.aws.filters.az: expected at least one value; a filter without values narrows nothing"}},
		{"empty tags and ids", "      tags: {}\n      ids: []\n", []string{"t.yaml:15:7: targets.fleet.aws.tags: expected", "t.yaml:16:7: targets.fleet.aws.ids: expected"}},
		{"empty ids beside real tags", "      tags: {service: checkout}\n      ids: []\n", []string{"t.yaml:16:7: targets.fleet.aws.ids: expected"}},
		{"block-style empty tags", "      tags:\n      ids: [i-1]\n", []string{"t.yaml:15:"}},
		{"no selector", "", []string{"t.yaml:12:7: targets.fleet.aws: expected at least one of ids, tags or filters"}},
	} {
		_, err := Parse("t.yaml", []byte(head+c.sel+tail), nil)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant %q", c.name, err, w)
			}
		}
	}
	rb, err := Parse("t.yaml", []byte(head+"      tags: {service: checkout}\n      max_members: 200\n"+tail), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := rb.Targets[0].AWS; a.MaxMembers != 200 || a.Tags["service"] != "checkout" {
		t.Errorf("target %+v", a)
	}
	if _, err := Parse("t.yaml", []byte(head+"      tags: {service: checkout}\n      max_members: 0\n"+tail), nil); err == nil || !strings.Contains(err.Error(), "t.yaml:16:20: targets.fleet.aws.max_members") {
		t.Errorf("max_members 0: %v", err)
	}
}

package aws

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

func TestInstanceFilters(t *testing.T) {
	got := func(a *runbook.AWSTarget) []string {
		var out []string
		for _, f := range instanceFilters(a) {
			out = append(out, sdkaws.ToString(f.Name)+"="+strings.Join(f.Values, ","))
		}
		return out
	}
	cases := []struct {
		name string
		in   runbook.AWSTarget
		want []string
	}{
		{"tags and running by default", runbook.AWSTarget{Tags: map[string]string{"service": "checkout", "env": "staging"}},
			[]string{"tag:env=staging", "tag:service=checkout", "instance-state-name=running"}},
		{"short names", runbook.AWSTarget{Filters: map[string][]string{"az": {"eu-west-1a", "eu-west-1b"}, "vpc": {"vpc-1"}}},
			[]string{"availability-zone=eu-west-1a,eu-west-1b", "vpc-id=vpc-1", "instance-state-name=running"}},
		{"a state of its own", runbook.AWSTarget{Filters: map[string][]string{"state": {"stopped"}}},
			[]string{"instance-state-name=stopped"}},
		{"raw filter names pass", runbook.AWSTarget{Filters: map[string][]string{"instance-type": {"t3.micro"}}},
			[]string{"instance-type=t3.micro", "instance-state-name=running"}},
	}
	for _, c := range cases {
		if g := got(&c.in); !slices.Equal(g, c.want) {
			t.Errorf("%s: filters %v, want %v", c.name, g, c.want)
		}
	}
}

func TestGuard(t *testing.T) {
	s := &session{where: where{Region: "eu-west-1", Profile: "prod"}, account: "111111111111"}
	err := guard(s, []string{"222222222222", "333333333333"})
	if err == nil || !strings.Contains(err.Error(), "refusing account 111111111111") || !strings.Contains(err.Error(), "222222222222, 333333333333") || !strings.Contains(err.Error(), "profile prod") {
		t.Errorf("wrong account: %v", err)
	}
	if err := guard(s, nil); err == nil || !strings.Contains(err.Error(), `accounts: ["111111111111"]`) {
		t.Errorf("no accounts listed: %v", err)
	}
	if err := guard(s, []string{"111111111111"}); err != nil {
		t.Errorf("listed account: %v", err)
	}
}

func TestDryRunVerdicts(t *testing.T) {
	if err := dryRun("StopInstances", &smithy.GenericAPIError{Code: "DryRunOperation"}); err != nil {
		t.Errorf("DryRunOperation: %v", err)
	}
	err := dryRun("StopInstances", &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "You are not authorized"})
	if err == nil || !strings.Contains(err.Error(), "not permitted") || !strings.Contains(err.Error(), "ec2:StopInstances") {
		t.Errorf("UnauthorizedOperation: %v", err)
	}
	if err := dryRun("StopInstances", nil); err == nil {
		t.Error("a DryRun that succeeded was trusted")
	}
	if err := dryRun("StopInstances", errors.New("dial tcp: refused")); err == nil {
		t.Error("a network error passed preflight")
	}
}

func TestEveryAWSKindIsCarriedOut(t *testing.T) {
	for _, k := range targets.Default().Kinds() {
		if _, ok := attacks[k.Name]; (k.Family == targets.FamilyAWS) != ok {
			t.Errorf("kind %s (family %s): carried out by the aws executor: %v", k.Name, k.Family, ok)
		}
		for _, r := range k.Resources {
			if resolvers[r] == nil {
				t.Errorf("kind %s acts on %s, which nothing resolves", k.Name, r)
			}
		}
	}
	e := labExecutor(t, startLab(t, labaws.Hooks{}), "AKIDGAMEDAY")
	for _, k := range []string{"cpu", "lab-cpu", "nope"} {
		err := e.Preflight(context.Background(), targets.Injection{Kind: k, Member: member("x", labAccount, nil)})
		if err == nil || !strings.Contains(err.Error(), "not an aws kind") {
			t.Errorf("%s: preflight: %v", k, err)
		}
	}
	_, err := e.Resolve(context.Background(), runbook.Target{Name: "t", AWS: &runbook.AWSTarget{Resource: "s3:bucket", IDs: []string{"x"}, Accounts: []string{labAccount}}})
	if err == nil || !strings.Contains(err.Error(), "not supported by the aws executor") {
		t.Errorf("resolve s3:bucket: %v", err)
	}
}

func TestPlan(t *testing.T) {
	e := New(Options{})
	m := member("i-1", "111111111111", nil)
	cases := map[string][]string{
		"ec2-stop":      {"sts GetCallerIdentity (expect account 111111111111, eu-west-1)", "StopInstances --instance-ids i-1 --dry-run", "StartInstances"},
		"ec2-terminate": {"TerminateInstances --instance-ids i-1", "NONE"},
		"ssm-command":   {"ssm SendCommand AWS-RunShellScript --instance-ids i-1 --max-concurrency 10% --max-errors 0", "stress-ng", "gameday-switch"},
	}
	params := map[string]map[string]string{"ssm-command": {"attack": "cpu", "max_concurrency": "10%", "max_errors": "0"}}
	for kind, want := range cases {
		got := strings.Join(e.Plan(targets.Injection{RunID: "r1", Attack: "a", Kind: kind, Params: params[kind], Member: m, Duration: 60e9}), "\n")
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s plan lacks %q:\n%s", kind, w, got)
			}
		}
	}
}

func TestSSMScriptsOfLabKinds(t *testing.T) {
	e := New(Options{})
	pre, in, rb, err := e.ssmScripts(targets.Injection{RunID: "r1", Attack: "burn", Kind: "ssm-command", Duration: 60e9,
		Params: map[string]string{"attack": "lab-cpu", "load": "50", "max_concurrency": "1", "max_errors": "0"}, Member: member("i-1", "1", nil)})
	if err != nil {
		t.Fatal(err)
	}
	if pre != "" || in != "cpu '--load=50%' '--duration=1m0s'" || rb != "cpu --rollback" {
		t.Errorf("lab-cpu scripts: %q, %q, %q", pre, in, rb)
	}
}

package aws

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
)

// aws runs the AWS CLI (botocore: its own SigV4 signer and serialisers,
// written apart from the Go SDK) against the endpoint and returns stdout,
// or stderr and the exit code when it fails.
func awsCLI(t *testing.T, s *Server, secret string, args ...string) (string, string, error) {
	t.Helper()
	bin := e2e.Need(t, "aws")[0]
	home := t.TempDir()
	cmd := exec.Command(bin, append([]string{"--endpoint-url", s.URL(), "--region", "eu-west-1", "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+testKey, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_SESSION_TOKEN=",
		"AWS_CONFIG_FILE="+home+"/config", "AWS_SHARED_CREDENTIALS_FILE="+home+"/credentials",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=2", "AWS_PAGER=", "HOME="+home,
	)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// TestAWSCLI proves the endpoint against a second, independent client: the
// signatures it accepts are AWS's, not just what the Go SDK computes.
func TestAWSCLI(t *testing.T) {
	s := startServer(t, Options{})
	seedFleet(t, s, 3, func(i int) map[string]string { return map[string]string{"service": "checkout"} })
	if err := s.AddFunction(Function{Name: "checkout", Env: map[string]string{"A": "1"}}); err != nil {
		t.Fatal(err)
	}

	out, stderr, err := awsCLI(t, s, testSecret, "sts", "get-caller-identity")
	if err != nil {
		t.Fatalf("sts get-caller-identity: %v\n%s", err, stderr)
	}
	var who struct{ Account string }
	if err := json.Unmarshal([]byte(out), &who); err != nil || who.Account != DefaultAccount {
		t.Errorf("caller identity %q: %v", out, err)
	}

	out, stderr, err = awsCLI(t, s, testSecret, "ec2", "describe-instances", "--filters", "Name=tag:service,Values=checkout", "--page-size", "5")
	if err != nil {
		t.Fatalf("ec2 describe-instances: %v\n%s", err, stderr)
	}
	if n := strings.Count(out, `"InstanceId"`); n != 3 {
		t.Errorf("describe-instances listed %d instances, want 3:\n%s", n, out)
	}
	if _, stderr, err = awsCLI(t, s, testSecret, "ec2", "stop-instances", "--instance-ids", InstanceID(1)); err != nil {
		t.Fatalf("ec2 stop-instances: %v\n%s", err, stderr)
	}
	if got, _ := s.Instance(InstanceID(1)); got.State == StateRunning {
		t.Error("stop-instances left the instance running")
	}

	// JSON 1.1 and REST-JSON, with a path parameter.
	if _, stderr, err = awsCLI(t, s, testSecret, "ssm", "list-commands"); err != nil {
		t.Fatalf("ssm list-commands: %v\n%s", err, stderr)
	}
	out, stderr, err = awsCLI(t, s, testSecret, "lambda", "get-function-configuration", "--function-name", "checkout")
	if err != nil || !strings.Contains(out, `"A": "1"`) {
		t.Fatalf("lambda get-function-configuration: %v\n%s%s", err, out, stderr)
	}
	if _, stderr, err = awsCLI(t, s, testSecret, "lambda", "put-function-concurrency", "--function-name", "checkout", "--reserved-concurrent-executions", "0"); err != nil {
		t.Fatalf("lambda put-function-concurrency: %v\n%s", err, stderr)
	}
	if got, _ := s.Function("checkout"); got.ReservedConcurrency == nil || *got.ReservedConcurrency != 0 {
		t.Errorf("reserved concurrency after the CLI set 0: %v", got.ReservedConcurrency)
	}

	_, stderr, err = awsCLI(t, s, "not-the-secret", "ec2", "describe-instances")
	if err == nil || !strings.Contains(stderr, "SignatureDoesNotMatch") {
		t.Errorf("wrong secret: %v\n%s", err, stderr)
	}
	_, stderr, err = awsCLI(t, s, testSecret, "ec2", "stop-instances", "--instance-ids", InstanceID(2), "--dry-run")
	if err == nil || !strings.Contains(stderr, "DryRunOperation") {
		t.Errorf("dry run: %v\n%s", err, stderr)
	}
}

// TestAWSCLIEveryService reads and changes something in every service
// through the CLI, which fails on an answer botocore cannot parse.
func TestAWSCLIEveryService(t *testing.T) {
	s := startServer(t, Options{})
	seedFleet(t, s, 2, func(i int) map[string]string { return map[string]string{"service": "checkout"} })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.AddTemplate(Template{ID: "EXT1", Duration: time.Hour, Actions: map[string]string{"stop": "aws:ec2:stop-instances"}}))
	task, err := s.AddTask(Task{Cluster: "prod", Service: "checkout"})
	must(err)
	must(s.AddDBCluster(DBCluster{ID: "orders"}))
	must(s.AddDBInstance(DBInstance{ID: "orders-1", Cluster: "orders"}))
	must(s.AddAutoScalingGroup(AutoScalingGroup{Name: "checkout-asg", Instances: []string{InstanceID(1)}}))
	must(s.AddTable(Table{Name: "carts"}))
	must(s.AddSecurityGroup(SecurityGroup{ID: "sg-1", Rules: []Rule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "10.0.0.0/8"}}}))
	cases := []struct {
		args []string
		want string // in stdout
	}{
		{[]string{"fis", "get-experiment-template", "--id", "EXT1"}, `"actionId": "aws:ec2:stop-instances"`},
		{[]string{"fis", "start-experiment", "--experiment-template-id", "EXT1"}, `"status": "initiating"`},
		{[]string{"ecs", "describe-tasks", "--cluster", "prod", "--tasks", task}, `"group": "service:checkout"`},
		{[]string{"rds", "failover-db-cluster", "--db-cluster-identifier", "orders"}, `"Status": "failing-over"`},
		{[]string{"autoscaling", "describe-auto-scaling-groups"}, `"LifecycleState": "InService"`},
		{[]string{"autoscaling", "suspend-processes", "--auto-scaling-group-name", "checkout-asg", "--scaling-processes", "Launch"}, ""},
		{[]string{"dynamodb", "update-table", "--table-name", "carts", "--provisioned-throughput", "ReadCapacityUnits=1,WriteCapacityUnits=1"}, `"TableStatus": "UPDATING"`},
		{[]string{"ec2", "describe-security-group-rules", "--filters", "Name=group-id,Values=sg-1"}, `"CidrIpv4": "10.0.0.0/8"`},
		{[]string{"ec2", "revoke-security-group-ingress", "--group-id", "sg-1", "--protocol", "tcp", "--port", "22", "--cidr", "10.0.0.0/8"}, `"Return": true`},
		{[]string{"ssm", "send-command", "--document-name", "AWS-RunShellScript", "--instance-ids", InstanceID(1), "--parameters", "commands=uptime"}, `"CommandId"`},
	}
	for _, tc := range cases {
		out, stderr, err := awsCLI(t, s, testSecret, tc.args...)
		if err != nil || !strings.Contains(out, tc.want) {
			t.Errorf("aws %s: %v, want %q in\n%s%s", strings.Join(tc.args, " "), err, tc.want, out, stderr)
		}
	}
	if g, _ := s.AutoScalingGroup("checkout-asg"); len(g.Suspended) != 1 {
		t.Errorf("suspended after the CLI: %v", g.Suspended)
	}
	if g, _ := s.SecurityGroup("sg-1"); len(g.Rules) != 0 {
		t.Errorf("rules after the CLI revoked the only one: %v", g.Rules)
	}
}

// TestAWSCLIFIS drives an experiment the way a person would from a shell:
// create a template, start it, read it, stop it, delete the template.
func TestAWSCLIFIS(t *testing.T) {
	s := startServer(t, Options{TransitionDelay: 10 * time.Millisecond})
	seedFleet(t, s, 1, func(int) map[string]string { return nil })
	tmpl := `{"description":"stop one","roleArn":"arn:aws:iam::` + DefaultAccount + `:role/gameday-fis",
"stopConditions":[{"source":"none"}],
"targets":{"Instances":{"resourceType":"aws:ec2:instance","resourceArns":["` + s.arn("ec2", "instance/"+InstanceID(1)) + `"],"selectionMode":"ALL"}},
"actions":{"stop":{"actionId":"aws:ec2:stop-instances","parameters":{"startInstancesAfterDuration":"PT1H"},"targets":{"Instances":"Instances"}}},
"tags":{"gameday:run-id":"cli"}}`
	out, stderr, err := awsCLI(t, s, testSecret, "fis", "create-experiment-template", "--cli-input-json", tmpl)
	if err != nil {
		t.Fatalf("fis create-experiment-template: %v\n%s", err, stderr)
	}
	var created struct {
		ExperimentTemplate struct {
			ID string `json:"id"`
		} `json:"experimentTemplate"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.ExperimentTemplate.ID == "" {
		t.Fatalf("create-experiment-template answered %q: %v", out, err)
	}
	out, stderr, err = awsCLI(t, s, testSecret, "fis", "start-experiment", "--experiment-template-id", created.ExperimentTemplate.ID, "--tags", "gameday:run-id=cli")
	if err != nil {
		t.Fatalf("fis start-experiment: %v\n%s", err, stderr)
	}
	var x struct {
		Experiment struct {
			ID    string                  `json:"id"`
			State struct{ Status string } `json:"state"`
		} `json:"experiment"`
	}
	if err := json.Unmarshal([]byte(out), &x); err != nil || x.Experiment.ID == "" {
		t.Fatalf("start-experiment answered %q: %v", out, err)
	}
	get := func() string {
		t.Helper()
		out, stderr, err := awsCLI(t, s, testSecret, "fis", "get-experiment", "--id", x.Experiment.ID, "--query", "experiment.state.status", "--output", "text")
		if err != nil {
			t.Fatalf("fis get-experiment: %v\n%s", err, stderr)
		}
		return strings.TrimSpace(out)
	}
	until := func(status string) {
		t.Helper()
		e2e.WaitFor(t, 10*time.Second, "the experiment to be "+status, func() bool { return get() == status })
	}
	until("running")
	waitInstance(t, s, InstanceID(1), StateStopped)
	if _, stderr, err := awsCLI(t, s, testSecret, "fis", "stop-experiment", "--id", x.Experiment.ID); err != nil {
		t.Fatalf("fis stop-experiment: %v\n%s", err, stderr)
	}
	until("stopped")
	waitInstance(t, s, InstanceID(1), StateRunning)
	if _, stderr, err := awsCLI(t, s, testSecret, "fis", "delete-experiment-template", "--id", created.ExperimentTemplate.ID); err != nil {
		t.Fatalf("fis delete-experiment-template: %v\n%s", err, stderr)
	}
}

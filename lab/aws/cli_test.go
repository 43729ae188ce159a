package aws

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

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

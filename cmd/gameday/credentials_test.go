package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	labaws "github.com/gameday/gameday/lab/aws"
)

// A run whose AWS credentials are missing stops before the baseline with
// exit 4 and a message a person can act on, not the SDK's chain of tries.
func TestRunWithoutAWSCredentialsIsBlockedBeforeTheBaseline(t *testing.T) {
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	srv := labaws.New(labaws.Options{Keys: []labaws.Key{{AccessKeyID: "AKIDCRED", SecretAccessKey: "cred-secret"}}})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	path := filepath.Join(dir, "stop.yaml")
	rb := fmt.Sprintf(`version: 1
name: stop one
metrics:
  url: http://127.0.0.1:1
  panels:
    p95: {query: 'vector(0.1)', unit: seconds}
baseline:
  duration: 1m
  steady_state: {p95: "< 300ms"}
hypothesis:
  statement: Losing one instance keeps P95 under 500ms.
  expect: {p95: "< 500ms"}
targets:
  fleet: {aws: {region: us-east-1, resource: ec2:instance, tags: {service: checkout}, accounts: ["%s"], endpoint: %s}}
blast_radius:
  fleet: {count: 1}
attacks:
  - {name: stop, target: fleet, kind: ec2-stop, duration: 1m}
`, labaws.DefaultAccount, srv.URL())
	if err := os.WriteFile(path, []byte(rb), 0o600); err != nil {
		t.Fatal(err)
	}
	runs := filepath.Join(dir, "runs")
	code, _, errs := gameday(t, "run", path, "--autopilot", "--yes", "--runs-dir", runs)
	t.Logf("exit %d: %s", code, errs)
	if code != exitInvalid {
		t.Fatalf("exit %d, want %d: %s", code, exitInvalid, errs)
	}
	for _, want := range []string{"no credentials found", "AWS_PROFILE", "nothing was run"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr does not say %q:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, "IMDS") || strings.Contains(errs, "StatusCode") {
		t.Errorf("stderr shows the SDK's chain:\n%s", errs)
	}
	if _, err := os.Stat(runs); !os.IsNotExist(err) {
		t.Errorf("a run directory was made before the credentials were checked: %v", err)
	}
}

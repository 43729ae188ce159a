package main

import (
	"context"
	"testing"

	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// The aws family takes its region, endpoint and keys from runFlags.Getenv,
// as gameday lab hands them over, and signs with those keys.
func TestAWSFamilyFromGetenv(t *testing.T) {
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	srv := labaws.New(labaws.Options{Keys: []labaws.Key{{AccessKeyID: "AKIDWIRE", SecretAccessKey: "wire-secret"}}})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.AddInstance(labaws.Instance{ID: labaws.InstanceID(1), Tags: map[string]string{"service": "checkout"}}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDWIRE", "AWS_SECRET_ACCESS_KEY": "wire-secret", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": srv.URL()}
	r, e, err := families[targets.FamilyAWS](&runFlags{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	members, err := r.Resolve(context.Background(), runbook.Target{Name: "fleet", AWS: &runbook.AWSTarget{
		Resource: "ec2:instance", Tags: map[string]string{"service": "checkout"}, Accounts: []string{labaws.DefaultAccount}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 1 || members[0].ID != labaws.InstanceID(1) || members[0].Labels["endpoint"] != srv.URL() {
		t.Fatalf("members %+v", members)
	}
	if err := e.Preflight(context.Background(), targets.Injection{RunID: "r1", Attack: "stop", Kind: "ec2-stop", Member: members[0]}); err != nil {
		t.Fatal(err)
	}
}

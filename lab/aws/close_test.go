package aws

import (
	"context"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"go.uber.org/goleak"
)

// TestCloseLeavesNothing closes the endpoint with commands still running,
// transitions still scheduled and hooks queued: Close cancels the commands,
// delivers the hooks and leaves no goroutine behind.
func TestCloseLeavesNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	log := &stateLog{}
	sh := &shell{}
	s := New(Options{
		Keys:  []Key{{AccessKeyID: testKey, SecretAccessKey: testSecret}},
		Hooks: Hooks{InstanceState: log.add, RunShell: sh.run},
	})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	seedFleet(t, s, 3, func(int) map[string]string { return nil })
	cfg := sdkConfig(t, s, testKey, testSecret)
	ctx := context.Background()
	out, err := ssm.NewFromConfig(cfg).SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName: sdkaws.String("AWS-RunShellScript"),
		InstanceIds:  []string{InstanceID(1), InstanceID(2)},
		Parameters:   map[string][]string{"commands": {"block"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ec2.NewFromConfig(cfg).StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{InstanceID(3)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := log.list(); len(got) != 1 || got[0] != InstanceID(3)+"=stopping" {
		t.Errorf("hooks delivered %v, want the stopping of %s", got, InstanceID(3))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, inv := range s.commands[sdkaws.ToString(out.Command.CommandId)].invs {
		if inv.status != "Cancelled" && inv.status != "Pending" {
			t.Errorf("%s: invocation %s after Close", id, inv.status)
		}
	}
}

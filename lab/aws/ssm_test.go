package aws

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// shell is a RunShell hook that answers by instance: "fail" in the commands
// exits 3, "block" waits for the context, anything else echoes.
type shell struct {
	mu      sync.Mutex
	running int
	peak    int
	ran     []string
}

func (sh *shell) run(ctx context.Context, id string, commands []string) (string, string, int) {
	sh.mu.Lock()
	sh.running++
	sh.peak = max(sh.peak, sh.running)
	sh.ran = append(sh.ran, id)
	sh.mu.Unlock()
	defer func() {
		sh.mu.Lock()
		sh.running--
		sh.mu.Unlock()
	}()
	script := strings.Join(commands, "\n")
	switch {
	case strings.Contains(script, "block"):
		<-ctx.Done()
		return "", "killed", 143
	case strings.Contains(script, "fail"):
		return "", "boom on " + id, 3
	}
	// Let invocations overlap so MaxConcurrency has something to limit.
	select {
	case <-time.After(5 * time.Millisecond):
	case <-ctx.Done():
	}
	return "ran on " + id + ": " + script, "", 0
}

// waitCommand polls ListCommands until the command leaves Pending/InProgress.
// runToEnd sends a command to one instance, waits for it to end and
// returns that instance's invocation.
func runToEnd(t *testing.T, c *ssm.Client, in *ssm.SendCommandInput) *ssm.GetCommandInvocationOutput {
	t.Helper()
	ctx := context.Background()
	out, err := c.SendCommand(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	waitCommand(t, c, sdkaws.ToString(out.Command.CommandId))
	inv, err := c.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: out.Command.CommandId, InstanceId: sdkaws.String(in.InstanceIds[0])})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func waitCommand(t *testing.T, c *ssm.Client, id string) ssmtypes.Command {
	t.Helper()
	var cmd ssmtypes.Command
	eventually(t, func() string {
		out, err := c.ListCommands(context.Background(), &ssm.ListCommandsInput{CommandId: sdkaws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		switch cmd = out.Commands[0]; cmd.Status {
		case ssmtypes.CommandStatusPending, ssmtypes.CommandStatusInProgress, ssmtypes.CommandStatusCancelling:
			return fmt.Sprintf("command %s still %s", id, cmd.Status)
		}
		return ""
	})
	return cmd
}

func TestSSMSendCommandByTag(t *testing.T) {
	sh := &shell{}
	s := startServer(t, Options{Hooks: Hooks{RunShell: sh.run}})
	seedFleet(t, s, 12, func(i int) map[string]string {
		if i <= 10 {
			return map[string]string{"service": "checkout"}
		}
		return map[string]string{"service": "search"}
	})
	if err := s.SetInstanceState(InstanceID(10), StateStopped); err != nil {
		t.Fatal(err)
	}
	c := ssm.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	ctx := context.Background()
	out, err := c.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName:   sdkaws.String("AWS-RunShellScript"),
		Targets:        []ssmtypes.Target{{Key: sdkaws.String("tag:service"), Values: []string{"checkout"}}},
		Parameters:     map[string][]string{"commands": {"echo hi", "uptime"}},
		MaxConcurrency: sdkaws.String("3"),
		MaxErrors:      sdkaws.String("0"),
		TimeoutSeconds: sdkaws.Int32(60),
		Comment:        sdkaws.String("gameday run 42"),
	})
	if err != nil {
		t.Fatal(err)
	}
	id := sdkaws.ToString(out.Command.CommandId)
	if out.Command.TargetCount != 9 || out.Command.RequestedDateTime == nil || sdkaws.ToString(out.Command.Comment) != "gameday run 42" {
		t.Errorf("command %+v: want 9 running targets, a request time, the comment", out.Command)
	}
	cmd := waitCommand(t, c, id)
	if cmd.Status != ssmtypes.CommandStatusSuccess || cmd.CompletedCount != 9 || cmd.ErrorCount != 0 {
		t.Errorf("command ended %s completed %d errors %d, want Success 9 0", cmd.Status, cmd.CompletedCount, cmd.ErrorCount)
	}
	if sh.peak > 3 || sh.peak < 1 {
		t.Errorf("peak concurrency %d, want 1..3", sh.peak)
	}
	inv, err := c.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: sdkaws.String(id), InstanceId: sdkaws.String(InstanceID(1))})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Status != ssmtypes.CommandInvocationStatusSuccess || inv.ResponseCode != 0 ||
		sdkaws.ToString(inv.StandardOutputContent) != "ran on "+InstanceID(1)+": echo hi\nuptime" || sdkaws.ToString(inv.ExecutionEndDateTime) == "" {
		t.Errorf("invocation %+v", inv)
	}
	_, err = c.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: sdkaws.String(id), InstanceId: sdkaws.String(InstanceID(10))})
	wantCode(t, err, "InvocationDoesNotExist", "invocation on the stopped instance")

	// Details and pagination of ListCommandInvocations.
	seen := map[string]bool{}
	p := ssm.NewListCommandInvocationsPaginator(c, &ssm.ListCommandInvocationsInput{CommandId: sdkaws.String(id), Details: true, MaxResults: sdkaws.Int32(4)})
	for _, pg := range readPages(t, 10, p.HasMorePages, p.NextPage) {
		for _, ci := range pg.CommandInvocations {
			seen[sdkaws.ToString(ci.InstanceId)] = true
			if len(ci.CommandPlugins) != 1 || !strings.HasPrefix(sdkaws.ToString(ci.CommandPlugins[0].Output), "ran on ") {
				t.Errorf("invocation without plugin details: %+v", ci)
			}
		}
	}
	if len(seen) != 9 {
		t.Errorf("listed %d invocations, want 9", len(seen))
	}
}

func TestSSMMaxErrorsAndFailures(t *testing.T) {
	sh := &shell{}
	s := startServer(t, Options{Hooks: Hooks{RunShell: sh.run}})
	seedFleet(t, s, 6, func(int) map[string]string { return nil })
	c := ssm.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	ids := []string{InstanceID(1), InstanceID(2), InstanceID(3), InstanceID(4), InstanceID(5), InstanceID(6)}
	out, err := c.SendCommand(context.Background(), &ssm.SendCommandInput{
		DocumentName:   sdkaws.String("AWS-RunShellScript"),
		InstanceIds:    ids,
		Parameters:     map[string][]string{"commands": {"fail"}},
		MaxConcurrency: sdkaws.String("1"),
		MaxErrors:      sdkaws.String("1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd := waitCommand(t, c, sdkaws.ToString(out.Command.CommandId))
	if cmd.Status != ssmtypes.CommandStatusFailed {
		t.Errorf("command %s, want Failed", cmd.Status)
	}
	if len(sh.ran) != 2 {
		t.Errorf("ran on %d instances, want 2 (stop once errors exceed MaxErrors 1)", len(sh.ran))
	}
	inv, err := c.GetCommandInvocation(context.Background(), &ssm.GetCommandInvocationInput{CommandId: out.Command.CommandId, InstanceId: sdkaws.String(ids[0])})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Status != ssmtypes.CommandInvocationStatusFailed || inv.ResponseCode != 3 || !strings.Contains(sdkaws.ToString(inv.StandardErrorContent), "boom") {
		t.Errorf("failed invocation: %s %d %q", inv.Status, inv.ResponseCode, sdkaws.ToString(inv.StandardErrorContent))
	}
	last, err := c.GetCommandInvocation(context.Background(), &ssm.GetCommandInvocationInput{CommandId: out.Command.CommandId, InstanceId: sdkaws.String(ids[5])})
	if err != nil {
		t.Fatal(err)
	}
	if last.Status != ssmtypes.CommandInvocationStatusCancelled {
		t.Errorf("invocation never sent: %s, want Cancelled", last.Status)
	}
}

func TestSSMCancelAndTimeout(t *testing.T) {
	sh := &shell{}
	s := startServer(t, Options{Hooks: Hooks{RunShell: sh.run}})
	seedFleet(t, s, 2, func(int) map[string]string { return nil })
	c := ssm.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	ctx := context.Background()
	out, err := c.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName: sdkaws.String("AWS-RunShellScript"),
		InstanceIds:  []string{InstanceID(1)},
		Parameters:   map[string][]string{"commands": {"block"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := out.Command.CommandId
	if _, err := c.CancelCommand(ctx, &ssm.CancelCommandInput{CommandId: id}); err != nil {
		t.Fatal(err)
	}
	if cmd := waitCommand(t, c, sdkaws.ToString(id)); cmd.Status != ssmtypes.CommandStatusCancelled {
		t.Errorf("cancelled command: %s", cmd.Status)
	}

	inv := runToEnd(t, c, &ssm.SendCommandInput{
		DocumentName: sdkaws.String("AWS-RunShellScript"),
		InstanceIds:  []string{InstanceID(2)},
		Parameters:   map[string][]string{"commands": {"block"}, "executionTimeout": {"1"}},
	})
	if inv.Status != ssmtypes.CommandInvocationStatusTimedOut {
		t.Errorf("blocked past executionTimeout: %s, want TimedOut", inv.Status)
	}
	_, err = c.CancelCommand(ctx, &ssm.CancelCommandInput{CommandId: sdkaws.String("nope")})
	wantCode(t, err, "InvalidCommandId", "cancel of an unknown command")
}

func TestSSMErrors(t *testing.T) {
	s := startServer(t, Options{}) // no RunShell hook: no agent
	seedFleet(t, s, 2, func(int) map[string]string { return nil })
	if err := s.SetInstanceState(InstanceID(2), StateStopped); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := ssm.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	send := func(in ssm.SendCommandInput) error {
		if in.DocumentName == nil {
			in.DocumentName = sdkaws.String("AWS-RunShellScript")
		}
		_, err := c.SendCommand(ctx, &in)
		return err
	}
	cmds := map[string][]string{"commands": {"true"}}
	cases := []struct {
		name string
		in   ssm.SendCommandInput
		code string
	}{
		{"stopped instance", ssm.SendCommandInput{InstanceIds: []string{InstanceID(2)}, Parameters: cmds}, "InvalidInstanceId"},
		{"unknown document", ssm.SendCommandInput{DocumentName: sdkaws.String("AWS-RunPowerShellScript"), InstanceIds: []string{InstanceID(1)}, Parameters: cmds}, "InvalidDocument"},
		{"no commands", ssm.SendCommandInput{InstanceIds: []string{InstanceID(1)}}, "InvalidParameters"},
		{"bad MaxConcurrency", ssm.SendCommandInput{InstanceIds: []string{InstanceID(1)}, Parameters: cmds, MaxConcurrency: sdkaws.String("0")}, "ValidationException"},
	}
	for _, tc := range cases {
		if err := send(tc.in); apiCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	inv := runToEnd(t, c, &ssm.SendCommandInput{DocumentName: sdkaws.String("AWS-RunShellScript"), InstanceIds: []string{InstanceID(1)}, Parameters: cmds})
	if inv.Status != ssmtypes.CommandInvocationStatusFailed || sdkaws.ToString(inv.StatusDetails) != "Undeliverable" {
		t.Errorf("without an agent: %s %s, want Failed Undeliverable", inv.Status, sdkaws.ToString(inv.StatusDetails))
	}

	_, denied := ssm.NewFromConfig(sdkConfig(t, s, denyKey, testSecret)).SendCommand(ctx, &ssm.SendCommandInput{DocumentName: sdkaws.String("AWS-RunShellScript"), InstanceIds: []string{InstanceID(1)}, Parameters: cmds})
	_, unknown := c.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{})
	wantRefusals(t, s, denied, "AccessDeniedException", unknown, "ssm:GetCommandInvocation", func() error {
		_, err := c.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: inv.CommandId, InstanceId: sdkaws.String(InstanceID(1))})
		return err
	})
	if n := s.Calls("ssm:GetCommandInvocation"); n != 4 {
		t.Errorf("GetCommandInvocation reached %d times, want 4", n)
	}
}

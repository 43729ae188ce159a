package aws

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/targets"
)

// A rollback reaches every instance even when it fails on some: the
// attack's max_errors (0) and max_concurrency (10%) bound the inject only.
// Before, SSM cancelled the rollbacks queued behind the first failure.
func TestLabSSMRollbackIgnoresTheAttacksLimits(t *testing.T) {
	const n = 10
	bad := labaws.InstanceID(3)
	var mu sync.Mutex
	rolled := map[string]bool{}
	agent := func(_ context.Context, id string, commands []string) (string, string, int) {
		if !strings.Contains(strings.Join(commands, "\n"), "--rollback") {
			return "ok", "", 0
		}
		mu.Lock()
		rolled[id] = true
		mu.Unlock()
		if id == bad {
			return "gameday: cannot revert here\n", "", 1
		}
		return "gameday: reverted\n", "", 0
	}
	srv, e, members := labFleet(t, n, labaws.Hooks{RunShell: agent})
	ctx := context.Background()
	injs := make([]*targets.Injection, len(members))
	for i, m := range members {
		injs[i] = &targets.Injection{RunID: "r-rb", Attack: "burn", Kind: "ssm-command", Member: m, Duration: time.Minute,
			Params: map[string]string{"attack": "lab-cpu", "load": "50", "max_concurrency": "10%", "max_errors": "0"}}
		if _, err := e.Inject(ctx, injs[i]); err != nil {
			t.Fatal(err)
		}
	}
	errs := make([]error, len(injs))
	var wg sync.WaitGroup
	for i, inj := range injs {
		wg.Go(func() {
			_, errs[i] = e.Rollback(ctx, *inj)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if id := members[i].ID; (id == bad) != (err != nil) {
			t.Errorf("rollback on %s: %v", id, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(rolled) != n {
		t.Errorf("the agent ran the rollback on %d of %d instances", len(rolled), n)
	}
	// The ten rollbacks went out together, at 100% and 100%.
	if got := srv.Calls("ssm:SendCommand"); got >= 2*n {
		t.Errorf("SendCommand called %d times: the rollbacks were not batched", got)
	}
	if !strings.Contains(strings.Join(e.Plan(*injs[0]), "\n"), "rollback: ssm CancelCommand of the inject if it still runs, then ssm SendCommand AWS-RunShellScript --instance-ids "+members[0].ID+" --max-concurrency 100% --max-errors 100%") {
		t.Errorf("plan:\n%s", strings.Join(e.Plan(*injs[0]), "\n"))
	}
}

// An abort while an inject's script still runs cancels it on the instance
// with CancelCommand, and the rollback that follows cancels it again
// (harmlessly) before reverting.
func TestLabSSMAbortCancelsARunningInject(t *testing.T) {
	started := make(chan struct{}, 1)
	stopped := make(chan error, 1)
	agent := func(ctx context.Context, id string, commands []string) (string, string, int) {
		if strings.Contains(strings.Join(commands, "\n"), "--rollback") {
			return "gameday: reverted\n", "", 0
		}
		started <- struct{}{}
		select {
		case <-ctx.Done():
			stopped <- ctx.Err()
			return "", "killed", -1
		case <-time.After(20 * time.Second):
			stopped <- errors.New("the inject was never cancelled")
			return "ok", "", 0
		}
	}
	srv, e, members := labFleet(t, 1, labaws.Hooks{RunShell: agent})
	inj := &targets.Injection{RunID: "r-abort", Attack: "burn", Kind: "ssm-command", Member: members[0], Duration: time.Minute,
		Params: map[string]string{"attack": "lab-cpu", "load": "50", "max_concurrency": "1", "max_errors": "0"}}
	ctx, abort := context.WithCancel(context.Background())
	go func() {
		<-started
		abort()
	}()
	_, err := e.Inject(ctx, inj)
	if err == nil || !strings.Contains(err.Error(), "CancelCommand "+inj.State["command_id"]+" sent") {
		t.Fatalf("inject under abort: %v", err)
	}
	select {
	case got := <-stopped:
		if !errors.Is(got, context.Canceled) {
			t.Fatalf("the script on the instance: %v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the script on the instance is still running")
	}
	c := ssm.NewFromConfig(sdkaws.Config{Region: "us-east-1", Credentials: e.opts.Credentials, BaseEndpoint: sdkaws.String(srv.URL())})
	waitFor(t, "the invocation to show as cancelled", func() bool {
		out, err := c.GetCommandInvocation(context.Background(), &ssm.GetCommandInvocationInput{CommandId: sdkaws.String(inj.State["command_id"]), InstanceId: sdkaws.String(members[0].ID)})
		return err == nil && out.Status == "Cancelled"
	})
	res, err := e.Rollback(context.Background(), *inj)
	if err != nil || !strings.Contains(res.Output, "gameday: reverted") {
		t.Fatalf("rollback: %v (%q)", err, res.Output)
	}
	if got := srv.Calls("ssm:CancelCommand"); got != 2 {
		t.Errorf("CancelCommand called %d times, want the abort's and the rollback's", got)
	}
	if plan := e.Plan(*inj); !slices.ContainsFunc(plan, func(l string) bool { return strings.Contains(l, "abort during inject: ssm CancelCommand") }) {
		t.Errorf("the plan does not say an abort cancels the inject:\n%s", strings.Join(plan, "\n"))
	}
}

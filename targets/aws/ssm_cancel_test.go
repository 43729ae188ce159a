package aws

import (
	"context"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	labaws "github.com/gameday/gameday/lab/aws"
)

// Cancels of one command share a call, and an instance the command does
// not know, which makes SSM refuse the whole call, does not leave the
// others running: they are cancelled one by one.
func TestLabBatchedCancelSurvivesAStranger(t *testing.T) {
	target := labaws.InstanceID(1)
	stopped := make(chan struct{})
	var once sync.Once
	agent := func(ctx context.Context, id string, _ []string) (string, string, int) {
		<-ctx.Done()
		if id == target {
			once.Do(func() { close(stopped) })
		}
		return "", "cancelled", 1
	}
	srv, e, members := labFleet(t, 2, labaws.Hooks{RunShell: agent})
	e.batch.window = 300 * time.Millisecond
	ctx := context.Background()
	s, err := e.memberSession(ctx, members[0])
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.SSM.SendCommand(ctx, &ssm.SendCommandInput{DocumentName: sdkaws.String(shellDocument), InstanceIds: []string{target},
		Parameters: map[string][]string{"commands": {"sleep 600"}}})
	if err != nil {
		t.Fatal(err)
	}
	cmd := sdkaws.ToString(out.Command.CommandId)
	// The stranger joins the batch first, so the endpoint refuses the call
	// before it reaches the target.
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, id := range []string{labaws.InstanceID(2), target} {
		wg.Go(func() {
			errs[i] = e.cancelCommand(ctx, s, cmd, id)
		})
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("cancels: %v", errs)
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the command still runs on its instance")
	}
	if b := srv.Stats()["ssm:CancelCommand"].Batches; len(b) != 3 || b[0] != 2 || b[1] != 1 || b[2] != 1 {
		t.Errorf("CancelCommand batches %v, want one of 2 and then one of 1 each", b)
	}
}

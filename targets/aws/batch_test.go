package aws

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/targets"
)

func TestBatcherLeavesOutCancelledCallers(t *testing.T) {
	b := &batcher{window: 50 * time.Millisecond, wait: time.Second}
	var mu sync.Mutex
	var sent [][]string
	run := func(_ context.Context, ids []string) map[string]batchResult {
		mu.Lock()
		sent = append(sent, ids)
		mu.Unlock()
		return all(ids, batchResult{out: "done"})
	}
	key := batchKey{op: "x"}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	results := make([]batchResult, 3)
	for i, id := range []string{"a", "b", "c"} {
		c := context.Background()
		if id == "b" {
			c = ctx
		}
		wg.Go(func() {
			results[i] = b.do(c, key, 10, id, run)
		})
	}
	// b's caller gives up before the window closes.
	cancel()
	wg.Wait()
	if results[0].out != "done" || results[2].out != "done" || results[1].err == nil {
		t.Fatalf("results %+v", results)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, ids := range sent {
		for _, id := range ids {
			if id == "b" {
				t.Fatalf("a cancelled caller was sent: %v", sent)
			}
		}
	}
}

func TestBatcherSendsFullBatchesAtOnce(t *testing.T) {
	b := &batcher{window: time.Hour, wait: time.Second}
	var mu sync.Mutex
	sizes := []int{}
	run := func(_ context.Context, ids []string) map[string]batchResult {
		mu.Lock()
		sizes = append(sizes, len(ids))
		mu.Unlock()
		return all(ids, batchResult{})
	}
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Go(func() {
			b.do(context.Background(), batchKey{op: "x"}, 3, string(rune('a'+i)), run)
		})
	}
	wg.Wait() // an hour's window: only full batches can have been sent
	if len(sizes) != 2 || sizes[0] != 3 || sizes[1] != 3 {
		t.Fatalf("batch sizes %v", sizes)
	}
}

func TestLabBatchedStopFailsOnlyTheBadInstance(t *testing.T) {
	srv, e, members := labFleet(t, 6, labaws.Hooks{})
	e.batch.window = 200 * time.Millisecond
	ctx := context.Background()
	// Terminated underneath between resolution and the attack.
	bad := members[2].ID
	if err := srv.SetInstanceState(bad, "terminated"); err != nil {
		t.Fatal(err)
	}
	errs := map[string]error{}
	var mu sync.Mutex
	fanOut(members, len(members), func(m targets.Member) error {
		_, err := e.Inject(ctx, &targets.Injection{RunID: "r1", Attack: "stop", Kind: "ec2-stop", Member: m, Duration: time.Minute})
		mu.Lock()
		errs[m.ID] = err
		mu.Unlock()
		return nil
	})
	for _, m := range members {
		err := errs[m.ID]
		if m.ID == bad {
			if err == nil || !strings.Contains(err.Error(), bad) {
				t.Errorf("%s: %v", m.ID, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s failed with the bad one: %v", m.ID, err)
		}
		if in, _ := srv.Instance(m.ID); in.State != "stopping" && in.State != "stopped" {
			t.Errorf("%s is %s", m.ID, in.State)
		}
	}
}

func TestLabSSMCommandBatchesTheFleet(t *testing.T) {
	var mu sync.Mutex
	ran := map[string]int{}
	agent := func(_ context.Context, id string, _ []string) (string, string, int) {
		mu.Lock()
		defer mu.Unlock()
		ran[id]++
		return "ok", "", 0
	}
	srv, e, members := labFleet(t, 120, labaws.Hooks{RunShell: agent})
	e.batch.window = 200 * time.Millisecond
	ctx := context.Background()
	errs := fanOut(members, len(members), func(m targets.Member) error {
		_, err := e.Inject(ctx, &targets.Injection{RunID: "r1", Attack: "burn", Kind: "ssm-command", Member: m, Duration: time.Minute,
			Params: map[string]string{"attack": "lab-cpu", "max_concurrency": "25%", "max_errors": "0"}})
		return err
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ran) != 120 {
		t.Errorf("the command ran on %d instances", len(ran))
	}
	// 120 instances fit in three commands of 50; a slow machine may split
	// them further, but never down to one per instance.
	if n := srv.Calls("ssm:SendCommand"); n < 3 || n > 60 {
		t.Errorf("SendCommand called %d times for 120 instances", n)
	}
}

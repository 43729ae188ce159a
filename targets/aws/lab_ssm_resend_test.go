package aws

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"

	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/targets"
)

// droppingClient loses the answer to the first request whose body holds
// match, after the endpoint has acted on it, as a connection dropped under
// a response does; the SDK then sends the request again.
type droppingClient struct {
	inner *awshttp.BuildableClient
	match string
	*drops
}

type drops struct {
	mu      sync.Mutex
	dropped int
}

func (c *droppingClient) Do(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := c.inner.Do(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && c.dropped == 0 && bytes.Contains(body, []byte(c.match)) {
		c.dropped++
		resp.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}
	}
	return resp, err
}

// The SDK sends SendCommand again when a connection drops under its
// answer, and SSM runs both commands on the instance. The inject lands
// once, says so, and one rollback leaves nothing on the instance.
func TestLabResentInjectAppliesOnce(t *testing.T) {
	agent := shellAgent(t, labaws.InstanceID(1))
	var mu sync.Mutex
	var injects int // inject deliveries the instance finished
	srv := startLab(t, labaws.Hooks{RunShell: func(ctx context.Context, id string, cmds []string) (string, string, int) {
		out, errOut, code := agent(ctx, id, cmds)
		if strings.Contains(strings.Join(cmds, "\n"), "gameday-applying") {
			mu.Lock()
			injects++
			mu.Unlock()
		}
		return out, errOut, code
	}})
	seedFleet(t, srv, 1, checkout)
	drop := &droppingClient{inner: awshttp.NewBuildableClient(), match: "stacking fault inject", drops: &drops{}}
	e := labExecutor(t, srv, "AKIDGAMEDAY", config.WithHTTPClient(drop))
	members, err := e.Resolve(context.Background(), fleetTarget(checkout, 1))
	if err != nil {
		t.Fatal(err)
	}
	run := fmt.Sprintf("r-resend-%d", time.Now().UnixNano())
	t.Cleanup(func() { os.RemoveAll(filepath.Join("/run/gameday", run)) })
	file := filepath.Join(t.TempDir(), "applied")
	inj := &targets.Injection{RunID: run, Attack: "stacking fault", Kind: "ssm-command", Member: members[0], Duration: time.Minute,
		Params: map[string]string{"attack": "custom", "inject": "sleep 1; echo x >>{{file:path}}", "rollback": "rm -f {{file:path}}", "file": file, "max_concurrency": "1", "max_errors": "0"}}
	ctx := context.Background()
	res, err := e.Inject(ctx, inj)
	if err != nil {
		t.Fatalf("inject: %v\n%s", err, res.Output)
	}
	if drop.dropped != 1 {
		t.Fatalf("the inject's SendCommand answer was not dropped (%d): the test proves nothing", drop.dropped)
	}
	if n := srv.Stats()["ssm:SendCommand"].Calls; n != 2 {
		t.Fatalf("SendCommand reached the endpoint %d times, want 2 (the SDK's re-send)", n)
	}
	// Both commands run on the instance; wait for the one gameday does not
	// know of to end before counting.
	waitFor(t, "both deliveries to end", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return injects == 2
	})
	b, _ := os.ReadFile(file)
	if n := strings.Count(string(b), "x\n"); n != 1 {
		t.Fatalf("the fault was applied %d times by a re-sent inject, want once (output %q)", n, res.Output)
	}
	if _, err := e.Rollback(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("the rollback left the fault: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join("/run/gameday", run, "*")); len(left) != 0 {
		t.Fatalf("state left on the instance: %v", left)
	}
}

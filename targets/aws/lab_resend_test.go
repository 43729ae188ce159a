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

// A failover whose answer is lost is sent again by the SDK, and RDS refuses
// the second for the state the first put the database in. The inject says
// the failover is under way, as it is, rather than that it failed.
func TestLabResentFailoverIsNotAFailure(t *testing.T) {
	// A failover takes RDS half a minute or more; here, longer than the
	// SDK's retry backoff.
	srv := startLabWith(t, labaws.Options{TransitionDelay: 5 * time.Second})
	if err := srv.AddDBCluster(labaws.DBCluster{ID: "orders", Tags: checkout}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []labaws.DBInstance{{ID: "orders-1", Cluster: "orders"}, {ID: "orders-2", Cluster: "orders"}, {ID: "legacy", MultiAZ: true, Tags: checkout}} {
		if err := srv.AddDBInstance(in); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	for _, c := range []struct{ resource, action, says string }{
		{"rds:cluster", "Action=FailoverDBCluster", "failing over from orders-1"},
		{"rds:instance", "Action=RebootDBInstance", "rebooting with failover"},
	} {
		drop := &droppingClient{inner: awshttp.NewBuildableClient(), match: c.action, drops: &drops{}}
		e := labExecutor(t, srv, "AKIDGAMEDAY", config.WithHTTPClient(drop))
		members, err := e.Resolve(ctx, checkoutTarget("db", c.resource))
		if err != nil || len(members) != 1 {
			t.Fatalf("%s: %+v, %v", c.resource, members, err)
		}
		inj := &targets.Injection{RunID: "r-rds", Attack: "failover", Kind: "rds-failover", Member: members[0], Duration: time.Minute}
		if err := e.Preflight(ctx, *inj); err != nil {
			t.Fatal(err)
		}
		res, err := e.Inject(ctx, inj)
		if drop.dropped != 1 {
			t.Fatalf("%s: the answer was not dropped (%d): the test proves nothing", c.action, drop.dropped)
		}
		if err != nil || !strings.Contains(res.Output, c.says) || !strings.Contains(res.Output, "answer was lost") {
			t.Fatalf("%s: %v\n%s", c.action, err, res.Output)
		}
	}
	if c, _ := srv.DBCluster("orders"); c.Status != "failing-over" {
		t.Errorf("cluster %+v: not failing over", c)
	}
}

// A revoke whose answer is lost is sent again by the SDK and refused, the
// rules being gone already: the inject says they are revoked, as they are,
// and the rollback puts them back.
func TestLabResentRevokeIsNotAFailure(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	web := labaws.SecurityGroup{ID: "sg-0123456789abcdef0", Name: "web", VPC: "vpc-1", Tags: checkout, Rules: []labaws.Rule{
		{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDR: "10.0.0.0/16"},
		{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "10.9.0.0/24"},
	}}
	if err := srv.AddSecurityGroup(web); err != nil {
		t.Fatal(err)
	}
	// Not the preflight's DryRun call: the SDK writes the form's fields in
	// name order, DryRun before GroupId.
	drop := &droppingClient{inner: awshttp.NewBuildableClient(), match: "Action=RevokeSecurityGroupIngress&GroupId=", drops: &drops{}}
	e := labExecutor(t, srv, "AKIDGAMEDAY", config.WithHTTPClient(drop))
	ctx := context.Background()
	members, err := e.Resolve(ctx, checkoutTarget("groups", "ec2:security-group"))
	if err != nil || len(members) != 1 {
		t.Fatalf("%v, %v", members, err)
	}
	inj := &targets.Injection{RunID: "r-sg", Attack: "cut https", Kind: "sg-blackhole", Member: members[0], Duration: time.Minute,
		Params: map[string]string{"direction": "ingress", "protocol": "tcp", "port": "443"}}
	preflightInject(ctx, t, e, inj)
	if drop.dropped != 1 || srv.Calls("ec2:RevokeSecurityGroupIngress") < 3 {
		t.Fatalf("the revoke's answer was not dropped (%d, %d calls): the test proves nothing", drop.dropped, srv.Calls("ec2:RevokeSecurityGroupIngress"))
	}
	if g, _ := srv.SecurityGroup(web.ID); len(g.Rules) != 1 {
		t.Fatalf("rules after the inject: %v", labRules(g))
	}
	if _, err := e.Rollback(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	if g, _ := srv.SecurityGroup(web.ID); len(g.Rules) != 2 {
		t.Fatalf("rules after the rollback: %v", labRules(g))
	}
}

// An environment update whose answer is lost is sent again by the SDK and
// refused, the revision having moved under the first attempt's own write:
// the inject stands, with the revision it wrote, and the rollback restores
// the environment.
func TestLabResentLambdaUpdateIsNotAFailure(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	if err := srv.AddFunction(labaws.Function{Name: "checkout", Env: map[string]string{"MODE": "live"}}); err != nil {
		t.Fatal(err)
	}
	drop := &droppingClient{inner: awshttp.NewBuildableClient(), match: FaultRun, drops: &drops{}}
	e := labExecutor(t, srv, "AKIDGAMEDAY", config.WithHTTPClient(drop))
	ctx := context.Background()
	members, err := e.Resolve(ctx, lambdaTarget([]string{"checkout"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	inj := &targets.Injection{RunID: "r-fault", Attack: "errors", Kind: "lambda-fault", Member: members[0], Duration: 5 * time.Minute,
		Params: map[string]string{"error_rate": "25%", "status_code": "503"}}
	preflightInject(ctx, t, e, inj)
	if drop.dropped != 1 {
		t.Fatalf("the update's answer was not dropped (%d): the test proves nothing", drop.dropped)
	}
	f, _ := srv.Function("checkout")
	if f.Env[FaultRun] != "r-fault" || inj.State["revision"] != f.RevisionID {
		t.Fatalf("after the inject: env %v, revision %q recorded, the function's %q", f.Env, inj.State["revision"], f.RevisionID)
	}
	if _, err := e.Rollback(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	if f, _ := srv.Function("checkout"); len(f.Env) != 1 || f.Env["MODE"] != "live" {
		t.Fatalf("env after the rollback: %v", f.Env)
	}
}

// A capacity update whose answer is lost is sent again by the SDK and
// refused, the table being busy with the first attempt's change: the
// inject stands, and the rollback restores the capacity.
func TestLabResentCapacityUpdateIsNotAFailure(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	if err := srv.AddTable(labaws.Table{Name: "orders", Read: 100, Write: 40, Tags: checkout}); err != nil {
		t.Fatal(err)
	}
	drop := &droppingClient{inner: awshttp.NewBuildableClient(), match: `"ReadCapacityUnits":10,`, drops: &drops{}}
	e := labExecutor(t, srv, "AKIDGAMEDAY", config.WithHTTPClient(drop))
	ctx := context.Background()
	members, err := e.Resolve(ctx, checkoutTarget("tables", "dynamodb:table"))
	if err != nil || len(members) != 1 {
		t.Fatalf("%v, %v", members, err)
	}
	inj := &targets.Injection{RunID: "r-ddb", Attack: "starve", Kind: "dynamodb-capacity", Member: members[0], Duration: time.Minute, Params: map[string]string{"keep": "10"}}
	preflightInject(ctx, t, e, inj)
	if drop.dropped != 1 || srv.Calls("dynamodb:UpdateTable") != 2 {
		t.Fatalf("the update's answer was not dropped (%d, %d calls): the test proves nothing", drop.dropped, srv.Calls("dynamodb:UpdateTable"))
	}
	wantCapacity(t, srv, "orders", 10, 4, "after the inject")
	if _, err := e.Rollback(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	wantCapacity(t, srv, "orders", 100, 40, "after the rollback")
}

// A reboot sent again after its answer was lost reboots twice: nothing can
// take that back, but the inject's result says it.
func TestLabResentRebootIsSaid(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	seedFleet(t, srv, 1, checkout)
	drop := &droppingClient{inner: awshttp.NewBuildableClient(), match: "Action=RebootInstances", drops: &drops{}}
	e := labExecutor(t, srv, "AKIDGAMEDAY", config.WithHTTPClient(drop))
	ctx := context.Background()
	members, err := e.Resolve(ctx, fleetTarget(checkout, 1))
	if err != nil || len(members) != 1 {
		t.Fatalf("resolve: %+v, %v", members, err)
	}
	inj := &targets.Injection{RunID: "r-reboot", Attack: "reboot", Kind: "ec2-reboot", Member: members[0], Duration: time.Minute}
	res, err := e.Inject(ctx, inj)
	if drop.dropped != 1 {
		t.Fatalf("the answer was not dropped (%d): the test proves nothing", drop.dropped)
	}
	if n := srv.Calls("ec2:RebootInstances"); n != 2 {
		t.Fatalf("RebootInstances reached the endpoint %d times, want 2", n)
	}
	if err != nil || !strings.Contains(res.Output, "reboot requested 2 times") || !strings.Contains(res.Output, "may have rebooted more than once") {
		t.Fatalf("inject: %v\n%s", err, res.Output)
	}
}

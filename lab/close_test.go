package lab

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/ssh"
)

// TestCloseMidUse closes a lab that is busy: an SSH connection held open
// by gameday's executor, keep-alive connections to Prometheus, the load
// balancer and the AWS endpoint, a crashed process waiting for its
// restart, a stopped EC2 instance and live faults. Nothing may listen or
// run afterwards.
func TestCloseMidUse(t *testing.T) {
	l, err := Start(context.Background(), Options{HealthInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	listening := addrs(l)

	e := executor(l)
	defer e.Close()
	member := targets.Member{ID: "checkout-1", Labels: map[string]string{ssh.LabelUser: User}}
	if out, err := e.Run(context.Background(), member, "latency --delay=50ms --duration=10m"); err != nil {
		t.Fatalf("inject over ssh: %v\n%s", err, out)
	}
	in2, _ := l.Fleet().Instance("checkout-2")
	if out, errOut, code := in2.Exec("process-kill --restart_after=10m --duration=10m"); code != 0 {
		t.Fatalf("process-kill: %d %s%s", code, out, errOut)
	}
	l.instanceState(l.Hosts[2].InstanceID, "stopping")

	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 5 * time.Second}
	for _, u := range []string{l.PrometheusURL + "/api/v1/query?query=up", l.LoadBalancerURL + "/checkout", l.AWS.Endpoint + "/"} {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	done := make(chan struct{})
	go func() { l.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return within 30s")
	}
	e2e.Closed(t, "Close", listening...)
	// The executor's pooled connection was cut by the server: a new
	// command fails instead of hanging.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.Run(ctx, member, "status"); err == nil || ctx.Err() != nil {
		t.Errorf("a command after Close: %v (context %v), want a prompt connection error", err, ctx.Err())
	} else if !strings.Contains(err.Error(), "checkout-1") {
		t.Errorf("the error does not name the host: %v", err)
	}
	e.Close()
	transport.CloseIdleConnections()
	goleak.VerifyNone(t)
}

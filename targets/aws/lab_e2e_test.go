package aws

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gameday/gameday/lab"
	"github.com/gameday/gameday/targets"
)

// startWholeLab starts the lab of gameday lab with two hosts and no load,
// and an executor signing with its keys.
func startWholeLab(t *testing.T) (*lab.Lab, *Executor) {
	t.Helper()
	l, err := lab.Start(context.Background(), lab.Options{Hosts: 2, RPS: -1, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, New(Options{
		Region:      l.AWS.Region,
		Endpoint:    l.AWS.Endpoint,
		Credentials: credentials.NewStaticCredentialsProvider(l.AWS.AccessKeyID, l.AWS.SecretAccessKey, ""),
		LoadOptions: hermetic(t),
		Poll:        20 * time.Millisecond,
		Wait:        30 * time.Second,
	})
}

// The whole lab: its instances are hosts of the demo fleet, so a CPU burn
// sent through SSM Run Command lands on a host, and stopping an instance
// stops its host.
func TestLabFleetThroughAWS(t *testing.T) {
	ctx := context.Background()
	l, e := startWholeLab(t)
	members, err := e.Resolve(ctx, ec2Target(checkout, l.AWS.Account))
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 2 {
		t.Fatalf("members %+v", members)
	}
	host := func(m targets.Member) string { return m.Labels["tag:Name"] }

	// CPU burn via SSM on the first host.
	burn := &targets.Injection{RunID: "r-lab", Attack: "burn", Kind: "ssm-command", Member: members[0], Duration: time.Minute,
		Params: map[string]string{"attack": "lab-cpu", "load": "20", "max_concurrency": "1", "max_errors": "0"}}
	preflightInject(ctx, t, e, burn)
	in, ok := l.Fleet().Instance(host(members[0]))
	if !ok {
		t.Fatalf("no fleet instance %q", host(members[0]))
	}
	if fs := in.Faults(); len(fs) != 1 || fs[0].Name != "cpu" {
		t.Fatalf("faults after inject: %+v", fs)
	}
	if _, err := e.Rollback(ctx, *burn); err != nil {
		t.Fatal(err)
	}
	if fs := in.Faults(); len(fs) != 0 {
		t.Fatalf("faults after rollback: %+v", fs)
	}

	// Stopping the second instance takes its host down; the rollback
	// brings it back.
	stop := &targets.Injection{RunID: "r-lab", Attack: "stop", Kind: "ec2-stop", Member: members[1], Duration: time.Minute}
	if _, err := e.Inject(ctx, stop); err != nil {
		t.Fatal(err)
	}
	other, _ := l.Fleet().Instance(host(members[1]))
	waitFor(t, "the host to go down", func() bool { return !other.Up() })
	if _, err := e.Rollback(ctx, *stop); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the host to come back", other.Up)
}

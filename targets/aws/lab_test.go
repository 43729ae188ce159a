package aws

import (
	"context"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/config"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gameday/gameday/gamedays"
	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// These tests drive the real SDK (signing, serialisation, pagination,
// retries) against the lab's AWS-compatible endpoint on loopback.

const labAccount = labaws.DefaultAccount

var labKeys = []labaws.Key{
	{AccessKeyID: "AKIDGAMEDAY", SecretAccessKey: "lab-secret"},
	{AccessKeyID: "AKIDOTHER", SecretAccessKey: "other-secret", Account: "999999999999"},
	{AccessKeyID: "AKIDREADONLY", SecretAccessKey: "ro-secret", Deny: []string{"ec2:StopInstances", "ec2:RebootInstances", "ec2:TerminateInstances", "ec2:RevokeSecurityGroupIngress"}},
}

// startLab serves an endpoint for the test; hooks may be zero.
func startLab(t testing.TB, hooks labaws.Hooks) *labaws.Server {
	t.Helper()
	return startLabWith(t, labaws.Options{Hooks: hooks})
}

// startLabWith serves an endpoint with the test keys and, unless opts
// sets one, a transition delay short enough for a test.
func startLabWith(t testing.TB, opts labaws.Options) *labaws.Server {
	t.Helper()
	opts.Keys = labKeys
	if opts.TransitionDelay == 0 {
		opts.TransitionDelay = 20 * time.Millisecond
	}
	srv := labaws.New(opts)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// labExecutor signs with the named key of labKeys.
func labExecutor(t testing.TB, srv *labaws.Server, key string, load ...func(*config.LoadOptions) error) *Executor {
	t.Helper()
	var k labaws.Key
	for _, c := range labKeys {
		if c.AccessKeyID == key {
			k = c
		}
	}
	return New(Options{
		Region:      "us-east-1",
		Endpoint:    srv.URL(),
		Credentials: credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, ""),
		LoadOptions: append(hermetic(t), load...),
		MaxBackoff:  20 * time.Millisecond,
		Poll:        10 * time.Millisecond,
		Wait:        20 * time.Second,
	})
}

func seedFleet(t testing.TB, srv *labaws.Server, n int, tags map[string]string) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if err := srv.AddInstance(labaws.Instance{ID: labaws.InstanceID(i), AZ: []string{"us-east-1a", "us-east-1b"}[i%2], Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
}

// checkout is the tag the fleets in these tests carry.
var checkout = map[string]string{"service": "checkout"}

// labFleet serves n instances tagged checkout and resolves them with the
// default key.
func labFleet(t testing.TB, n int, hooks labaws.Hooks) (*labaws.Server, *Executor, []targets.Member) {
	t.Helper()
	srv := startLab(t, hooks)
	seedFleet(t, srv, n, checkout)
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	members, err := e.Resolve(context.Background(), fleetTarget(checkout, n))
	if err != nil {
		t.Fatal(err)
	}
	return srv, e, members
}

// waitFor polls cond, for up to 10s, for state the endpoint changes on its
// own clock.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	e2e.WaitFor(t, 10*time.Second, what, cond)
}

func ec2Target(tags map[string]string, accounts ...string) runbook.Target {
	return runbook.Target{Name: "fleet", AWS: &runbook.AWSTarget{Resource: "ec2:instance", Tags: tags, Accounts: accounts}}
}

// checkoutTarget is the lab account's resources of one type carrying the
// checkout tag.
func checkoutTarget(name, resource string) runbook.Target {
	return runbook.Target{Name: name, AWS: &runbook.AWSTarget{Resource: resource, Tags: checkout, Accounts: []string{labAccount}}}
}

// fleetTarget is the lab account's n instances carrying tags, all of them
// meant: max_members is n.
func fleetTarget(tags map[string]string, n int) runbook.Target {
	t := ec2Target(tags, labAccount)
	t.AWS.MaxMembers = n
	return t
}

func TestLabEC2StopAndRollback(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	seedFleet(t, srv, 3, map[string]string{"service": "checkout"})
	for _, in := range []labaws.Instance{{ID: "i-0000000000000other", Tags: map[string]string{"service": "search"}}, {ID: "i-00000000000000off", State: "stopped", Tags: checkout}} {
		if err := srv.AddInstance(in); err != nil {
			t.Fatal(err)
		}
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()

	members, err := e.Resolve(ctx, ec2Target(map[string]string{"service": "checkout"}, labAccount))
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 3 {
		t.Fatalf("resolved %d members, want 3: %v", len(members), members)
	}
	m := members[0]
	if m.Labels[LabelAccount] != labAccount || m.Labels[LabelEndpoint] != srv.URL() || m.Labels[LabelState] != "running" || m.Labels["tag:service"] != "checkout" || m.Labels[LabelAZ] == "" {
		t.Errorf("member labels %v", m.Labels)
	}
	// fresh never sees an inject, so its rollbacks work from the journal
	// alone. The steps run in order: each counts the StartInstances calls
	// of the ones before it.
	fresh := labExecutor(t, srv, "AKIDGAMEDAY")
	stopThenRollBack(t, e, fresh, srv, m)
	rollbackFindsInstanceStarted(t, e, srv, m)
	rollbackLeavesStoppedInstance(t, e, fresh, srv)
}

// stopThenRollBack stops m and rolls it back twice, the second a no-op.
func stopThenRollBack(t *testing.T, e, fresh *Executor, srv *labaws.Server, m targets.Member) {
	t.Helper()
	ctx := context.Background()
	inj := &targets.Injection{RunID: "r1", Attack: "stop one", Kind: "ec2-stop", Member: m, Params: map[string]string{"force": "false"}, Duration: time.Minute}
	if err := e.Preflight(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	if in, _ := srv.Instance(m.ID); in.State != "running" {
		t.Fatalf("preflight changed the instance: %s", in.State)
	}
	if _, err := e.Inject(ctx, inj); err != nil {
		t.Fatal(err)
	}
	if in, _ := srv.Instance(m.ID); in.State != "stopping" && in.State != "stopped" {
		t.Fatalf("after inject: %s", in.State)
	}
	if inj.State["requested"] != "StopInstances" {
		t.Errorf("recorded state %v", inj.State)
	}
	// Roll back from the journal alone: a fresh executor, the injection as
	// recorded.
	res, err := fresh.Rollback(ctx, *inj)
	if err != nil {
		t.Fatal(err)
	}
	if in, _ := srv.Instance(m.ID); in.State != "running" || res.Gone {
		t.Fatalf("after rollback: %s (%s), gone %v", in.State, res.Output, res.Gone)
	}
	if _, err := fresh.Rollback(ctx, *inj); err != nil {
		t.Fatalf("second rollback: %v", err)
	}
	if n := srv.Calls("ec2:StartInstances"); n != 1 {
		t.Errorf("StartInstances called %d times", n)
	}
}

// rollbackFindsInstanceStarted: someone starts the instance during the
// attack, so the rollback finds the fault gone and says so.
func rollbackFindsInstanceStarted(t *testing.T, e *Executor, srv *labaws.Server, m targets.Member) {
	t.Helper()
	ctx := context.Background()
	again := &targets.Injection{RunID: "r2", Attack: "stop one", Kind: "ec2-stop", Member: m, Params: map[string]string{"force": "false"}, Duration: time.Minute}
	if _, err := e.Inject(ctx, again); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the instance to stop", func() bool { in, _ := srv.Instance(m.ID); return in.State == "stopped" })
	if err := srv.SetInstanceState(m.ID, "running"); err != nil {
		t.Fatal(err)
	}
	if res, err := e.Rollback(ctx, *again); err != nil || !res.Gone {
		t.Errorf("rollback of an instance someone started: %v, gone %v (%s)", err, res.Gone, res.Output)
	}
	if n := srv.Calls("ec2:StartInstances"); n != 1 {
		t.Errorf("StartInstances called %d times, want still 1", n)
	}
}

// rollbackLeavesStoppedInstance: an instance that was stopped when
// resolved is not started by a rollback.
func rollbackLeavesStoppedInstance(t *testing.T, e, fresh *Executor, srv *labaws.Server) {
	t.Helper()
	ctx := context.Background()
	off := ec2Target(checkout, labAccount)
	off.AWS.Filters = map[string][]string{"state": {"stopped"}}
	offs, err := e.Resolve(ctx, off)
	if err != nil || len(offs) != 1 || offs[0].ID != "i-00000000000000off" {
		t.Fatalf("stopped members %+v, %v", offs, err)
	}
	res, err := fresh.Rollback(ctx, targets.Injection{RunID: "r1", Attack: "stop one", Kind: "ec2-stop", Member: offs[0], Duration: time.Minute})
	if in, _ := srv.Instance(offs[0].ID); err != nil || in.State != "stopped" || !strings.Contains(res.Output, "left as it is") {
		t.Errorf("rollback of an instance stopped when resolved: %v, %s, %q", err, in.State, res.Output)
	}
	if n := srv.Calls("ec2:StartInstances"); n != 1 {
		t.Errorf("StartInstances called %d times after the rollback of a stopped instance", n)
	}
}

func TestLabWrongAccountRefused(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	seedFleet(t, srv, 2, map[string]string{"service": "checkout"})
	e := labExecutor(t, srv, "AKIDOTHER")
	_, err := e.Resolve(context.Background(), ec2Target(map[string]string{"service": "checkout"}, labAccount))
	if err == nil || !strings.Contains(err.Error(), "refusing account 999999999999") || !strings.Contains(err.Error(), "allows only "+labAccount) {
		t.Fatalf("resolve in the wrong account: %v", err)
	}
	if n := srv.Calls("ec2:DescribeInstances"); n != 0 {
		t.Errorf("%d EC2 calls were made before the account was checked", n)
	}
	// A member resolved in one account is not touched through credentials
	// of another.
	good := labExecutor(t, srv, "AKIDGAMEDAY")
	members, err := good.Resolve(context.Background(), ec2Target(map[string]string{"service": "checkout"}, labAccount))
	if err != nil {
		t.Fatal(err)
	}
	inj := &targets.Injection{RunID: "r1", Attack: "stop", Kind: "ec2-stop", Member: members[0], Duration: time.Minute}
	if err := e.Preflight(context.Background(), *inj); err == nil || !strings.Contains(err.Error(), "refusing account 999999999999") || !strings.Contains(err.Error(), "resolved in account "+labAccount) {
		t.Errorf("preflight through another account: %v", err)
	}
	if _, err := e.Inject(context.Background(), inj); err == nil || !strings.Contains(err.Error(), "resolved in account "+labAccount) {
		t.Fatalf("inject through another account: %v", err)
	}
	if _, err := e.Rollback(context.Background(), *inj); err == nil || !strings.Contains(err.Error(), "resolved in account "+labAccount) {
		t.Errorf("rollback through another account: %v", err)
	}
	if n := srv.Calls("ec2:StopInstances") + srv.Calls("ec2:StartInstances") + srv.Calls("ec2:DescribeInstances"); n != 1 {
		t.Errorf("%d EC2 calls, want only the good executor's resolution", n)
	}
	if in, _ := srv.Instance(members[0].ID); in.State != "running" {
		t.Errorf("instance %s", in.State)
	}
}

func TestLabDryRunWithoutPermission(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	seedFleet(t, srv, 1, map[string]string{"service": "checkout"})
	e := labExecutor(t, srv, "AKIDREADONLY")
	ctx := context.Background()
	members, err := e.Resolve(ctx, ec2Target(map[string]string{"service": "checkout"}, labAccount))
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"ec2-stop", "ec2-reboot", "ec2-terminate"} {
		err := e.Preflight(ctx, targets.Injection{RunID: "r1", Attack: "a", Kind: kind, Member: members[0], Duration: time.Minute})
		if err == nil || !strings.Contains(err.Error(), "not permitted") || !strings.Contains(err.Error(), "UnauthorizedOperation") {
			t.Errorf("%s preflight without permission: %v", kind, err)
		}
	}
	if in, _ := srv.Instance(members[0].ID); in.State != "running" {
		t.Errorf("a DryRun changed the instance: %s", in.State)
	}
}

func TestLabPaginationAndThrottling(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	seedFleet(t, srv, 2500, map[string]string{"service": "checkout"})
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	srv.Throttle("sts:GetCallerIdentity", 2)
	srv.Throttle("ec2:DescribeInstances", 2)
	members, err := e.Resolve(context.Background(), fleetTarget(map[string]string{"service": "checkout"}, 2500))
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 2500 {
		t.Fatalf("resolved %d of 2500", len(members))
	}
	seen := map[string]bool{}
	for _, m := range members {
		if seen[m.ID] {
			t.Fatalf("%s twice", m.ID)
		}
		seen[m.ID] = true
	}
	// Three pages of at most 1,000, plus the two throttled attempts the
	// retryer made again; STS likewise. (A connection the transport drops
	// between attempts can add one more.)
	if n := srv.Calls("ec2:DescribeInstances"); n < 5 {
		t.Errorf("DescribeInstances called %d times, want 3 pages + 2 retries", n)
	}
	if n := srv.Calls("sts:GetCallerIdentity"); n < 3 {
		t.Errorf("GetCallerIdentity called %d times, want 1 + 2 retries", n)
	}
}

func TestLabThrottlingBeyondRetriesIsPerMember(t *testing.T) {
	srv, e, members := labFleet(t, 2, labaws.Hooks{})
	ctx := context.Background()
	// More throttling than the retryer's twelve attempts for it: the first
	// stop fails with the throttling error named, the second goes through.
	srv.Throttle("ec2:StopInstances", 12)
	var errs []error
	for _, m := range members {
		_, err := e.Inject(ctx, &targets.Injection{RunID: "r1", Attack: "stop", Kind: "ec2-stop", Member: m, Duration: time.Minute})
		errs = append(errs, err)
	}
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "RequestLimitExceeded") || !strings.Contains(errs[0].Error(), members[0].ID) {
		t.Errorf("first member: %v", errs[0])
	}
	if errs[1] != nil {
		t.Errorf("second member: %v", errs[1])
	}
}

func TestLabRebootAndTerminate(t *testing.T) {
	srv, e, members := labFleet(t, 2, labaws.Hooks{})
	ctx := context.Background()
	for i, kind := range []string{"ec2-reboot", "ec2-terminate"} {
		inj := &targets.Injection{RunID: "r1", Attack: kind, Kind: kind, Member: members[i], Duration: time.Minute}
		preflightInject(ctx, t, e, inj)
		res, err := e.Rollback(ctx, *inj)
		if err != nil || !strings.HasPrefix(res.Output, "NO ROLLBACK") || !res.Nothing {
			t.Errorf("%s rollback: %v, %q", kind, err, res.Output)
		}
	}
	if n := srv.Calls("ec2:RebootInstances"); n != 2 { // DryRun and the real one
		t.Errorf("RebootInstances called %d times", n)
	}
	waitFor(t, "the instance to be terminated", func() bool { in, _ := srv.Instance(members[1].ID); return in.State == "terminated" })
}

func TestLabWrongSecretRejected(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	e := New(Options{Region: "us-east-1", Endpoint: srv.URL(), LoadOptions: hermetic(t), MaxBackoff: time.Millisecond,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDGAMEDAY", "not-the-secret", "")})
	_, err := e.Resolve(context.Background(), ec2Target(map[string]string{"service": "checkout"}, labAccount))
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("wrong secret: %v", err)
	}
}

// BenchmarkResolveAndStop resolves 5,000 instances by tag and stops a 10%
// blast radius of them, 500, through the endpoint, 64 at a time as the
// engine fans out; the executor batches the stops into a few calls.
func BenchmarkResolveAndStop(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		srv := startLab(b, labaws.Hooks{})
		seedFleet(b, srv, 5000, map[string]string{"service": "checkout"})
		e := labExecutor(b, srv, "AKIDGAMEDAY")
		b.StartTimer()
		members, err := e.Resolve(context.Background(), fleetTarget(map[string]string{"service": "checkout"}, 5000))
		if err != nil || len(members) != 5000 {
			b.Fatalf("resolved %d: %v", len(members), err)
		}
		chosen, err := gamedays.Select(members, runbook.BlastRadius{Percent: 10}, 1)
		if err != nil || len(chosen) != 500 {
			b.Fatalf("selected %d: %v", len(chosen), err)
		}
		errs := fanOut(chosen, 64, func(m targets.Member) error {
			_, err := e.Inject(context.Background(), &targets.Injection{RunID: "bench", Attack: "stop", Kind: "ec2-stop", Member: m, Duration: time.Minute})
			return err
		})
		if len(errs) > 0 {
			b.Fatalf("%d stops failed, first: %v", len(errs), errs[0])
		}
		b.StopTimer()
		for _, m := range chosen {
			if in, _ := srv.Instance(m.ID); in.State != "stopping" && in.State != "stopped" {
				b.Fatalf("%s is %s", m.ID, in.State)
			}
		}
		b.ReportMetric(float64(srv.Calls("ec2:StopInstances")), "StopInstances-calls/op")
		srv.Close()
		b.StartTimer()
	}
}

func fanOut(ms []targets.Member, n int, fn func(targets.Member) error) []error {
	sem := make(chan struct{}, n)
	errc := make(chan error, len(ms))
	for _, m := range ms {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			if err := fn(m); err != nil {
				errc <- fmt.Errorf("%s: %w", m.ID, err)
			}
		}()
	}
	for i := 0; i < n; i++ {
		sem <- struct{}{}
	}
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errs
}

// BenchmarkResolve5000 is the resolution part alone: five pages of
// DescribeInstances through the endpoint.
func BenchmarkResolve5000(b *testing.B) {
	srv := startLab(b, labaws.Hooks{})
	seedFleet(b, srv, 5000, checkout)
	e := labExecutor(b, srv, "AKIDGAMEDAY")
	for b.Loop() {
		members, err := e.Resolve(context.Background(), fleetTarget(checkout, 5000))
		if err != nil || len(members) != 5000 {
			b.Fatalf("resolved %d: %v", len(members), err)
		}
	}
}

func TestLabInstancesByID(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	seedFleet(t, srv, 3, checkout)
	if err := srv.SetInstanceState(labaws.InstanceID(2), "stopped"); err != nil {
		t.Fatal(err)
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	target := runbook.Target{Name: "fleet", AWS: &runbook.AWSTarget{Resource: "ec2:instance", IDs: []string{labaws.InstanceID(1), labaws.InstanceID(3)}, Accounts: []string{labAccount}}}
	members, err := e.Resolve(context.Background(), target)
	if err != nil || len(members) != 2 {
		t.Fatalf("by id: %v, %v", members, err)
	}
	target.AWS.IDs = append(target.AWS.IDs, labaws.InstanceID(2))
	if _, err := e.Resolve(context.Background(), target); err == nil || !strings.Contains(err.Error(), labaws.InstanceID(2)) {
		t.Fatalf("a stopped instance named by id: %v", err)
	}
	target.AWS.Filters = map[string][]string{"state": {"running", "stopped"}}
	if members, err := e.Resolve(context.Background(), target); err != nil || len(members) != 3 {
		t.Fatalf("with a state filter: %v, %v", members, err)
	}
}

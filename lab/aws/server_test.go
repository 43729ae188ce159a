package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/gameday/gameday/lab/e2e"
)

const (
	testKey    = "AKIDGAMEDAYTEST"
	testSecret = "gameday-secret"
	otherKey   = "AKIDOTHERACCOUNT"
	denyKey    = "AKIDREADONLY"
)

// stateLog records InstanceState hook calls.
type stateLog struct {
	mu  sync.Mutex
	got []string
}

func (l *stateLog) add(id, state string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, id+"="+state)
}

// waitFor waits, bounded in time, until the hook has seen entry n times.
func (l *stateLog) waitFor(t *testing.T, entry string, n int) {
	t.Helper()
	eventually(t, func() string {
		seen := 0
		for _, e := range l.list() {
			if e == entry {
				seen++
			}
		}
		if seen < n {
			return fmt.Sprintf("hook saw %v, want %s %d times", l.list(), entry, n)
		}
		return ""
	})
}

func (l *stateLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...)
}

func startServer(t testing.TB, opts Options) *Server {
	t.Helper()
	opts.Keys = append(opts.Keys,
		Key{AccessKeyID: testKey, SecretAccessKey: testSecret},
		Key{AccessKeyID: otherKey, SecretAccessKey: testSecret, Account: "999999999999"},
		Key{AccessKeyID: denyKey, SecretAccessKey: testSecret, Deny: []string{"ec2:StopInstances", "ssm:*", "lambda:PutFunctionConcurrency", "fis:StartExperiment", "rds:FailoverDBCluster"}},
	)
	if opts.TransitionDelay == 0 {
		opts.TransitionDelay = 20 * time.Millisecond
	}
	s := New(opts)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func sdkConfig(t testing.TB, s *Server, key, secret string) sdkaws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("eu-west-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(key, secret, "")),
		config.WithBaseEndpoint(s.URL()),
		// Keep the tests off the machine's shared config and IMDS.
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithEC2IMDSClientEnableState(0),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The SDK warns when Go's transport drops a connection under a response
	// it is reading (aws/aws-sdk-go-v2#2737) and retries; keep that in the
	// test log rather than on the terminal.
	cfg.Logger = logging.LoggerFunc(func(_ logging.Classification, format string, v ...any) { t.Logf("sdk: "+format, v...) })
	// The standard retryer, with backoff short enough for a test.
	cfg.Retryer = func() sdkaws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 5
			o.MaxBackoff = 20 * time.Millisecond
		})
	}
	return cfg
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// wantCode reports an error unless err carries the AWS error code; what
// says which call it was.
func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if apiCode(err) != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

// wantRefusals checks what every service answers alike: denied, a call
// made with a key that may not make it (deniedCode); unknown, an operation
// the endpoint does not serve; and two throttles of op, which the SDK
// retries through in call: three requests reach the endpoint.
func wantRefusals(t *testing.T, s *Server, denied error, deniedCode string, unknown error, op string, call func() error) {
	t.Helper()
	wantCode(t, denied, deniedCode, "denied key")
	wantCode(t, unknown, "UnknownOperationException", "unknown operation")
	before := s.Calls(op)
	s.Throttle(op, 2)
	if err := call(); err != nil {
		t.Errorf("after 2 throttles: %v", err)
	}
	if n := s.Calls(op) - before; n != 3 {
		t.Errorf("%s reached the endpoint %d times for two throttles and a success, want 3", op, n)
	}
}

func TestCallerIdentityPerKey(t *testing.T) {
	s := startServer(t, Options{Account: "111122223333"})
	ctx := context.Background()
	for key, want := range map[string]string{testKey: "111122223333", otherKey: "999999999999"} {
		out, err := sts.NewFromConfig(sdkConfig(t, s, key, testSecret)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if sdkaws.ToString(out.Account) != want || !strings.Contains(sdkaws.ToString(out.Arn), want) {
			t.Errorf("%s: account %q arn %q, want account %s", key, sdkaws.ToString(out.Account), sdkaws.ToString(out.Arn), want)
		}
	}
}

func TestWrongSecretRejected(t *testing.T) {
	s := startServer(t, Options{})
	ctx := context.Background()
	_, err := sts.NewFromConfig(sdkConfig(t, s, testKey, "not-the-secret")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "SignatureDoesNotMatch", "sts with a wrong secret")
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != 403 {
		t.Errorf("sts with a wrong secret: want HTTP 403, got %v", err)
	}
	_, err = ec2.NewFromConfig(sdkConfig(t, s, testKey, "not-the-secret")).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	wantCode(t, err, "SignatureDoesNotMatch", "ec2 with a wrong secret")
	_, err = sts.NewFromConfig(sdkConfig(t, s, "AKIDUNKNOWN", testSecret)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId", "sts with an unknown key")
	_, err = ec2.NewFromConfig(sdkConfig(t, s, "AKIDUNKNOWN", testSecret)).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	wantCode(t, err, "AuthFailure", "ec2 with an unknown key")
	if s.Calls("sts:GetCallerIdentity") != 0 {
		t.Errorf("rejected requests reached the operation %d times", s.Calls("sts:GetCallerIdentity"))
	}
}

func seedFleet(t testing.TB, s *Server, n int, tags func(i int) map[string]string) {
	t.Helper()
	for i := 1; i <= n; i++ {
		in := Instance{ID: InstanceID(i), AZ: []string{"eu-west-1a", "eu-west-1b"}[i%2], VPC: "vpc-1", Tags: tags(i)}
		if err := s.AddInstance(in); err != nil {
			t.Fatal(err)
		}
	}
}

func describeIDs(t *testing.T, c *ec2.Client, in *ec2.DescribeInstancesInput) []string {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return reservedIDs(out)
}

// pagedIDs reads every page of in through the SDK's paginator on c (with
// c's retryer) and lists the instances' ids, failing on an error.
func pagedIDs(t testing.TB, c ec2.DescribeInstancesAPIClient, in *ec2.DescribeInstancesInput) []string {
	t.Helper()
	var ids []string
	p := ec2.NewDescribeInstancesPaginator(c, in)
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, reservedIDs(out)...)
	}
	return ids
}

// reservedIDs lists the ids of the instances in a DescribeInstances
// answer, in its order.
func reservedIDs(out *ec2.DescribeInstancesOutput) []string {
	var ids []string
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			ids = append(ids, sdkaws.ToString(i.InstanceId))
		}
	}
	return ids
}

func TestDescribeInstancesFilters(t *testing.T) {
	s := startServer(t, Options{})
	seedFleet(t, s, 10, func(i int) map[string]string {
		if i <= 4 {
			return map[string]string{"service": "checkout", "Name": "checkout-" + string(rune('0'+i))}
		}
		return map[string]string{"service": "search"}
	})
	if err := s.SetInstanceState(InstanceID(2), StateStopped); err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	f := func(name string, values ...string) ec2types.Filter {
		return ec2types.Filter{Name: sdkaws.String(name), Values: values}
	}
	cases := []struct {
		name    string
		filters []ec2types.Filter
		want    int
	}{
		{"tag", []ec2types.Filter{f("tag:service", "checkout")}, 4},
		{"tag and state", []ec2types.Filter{f("tag:service", "checkout"), f("instance-state-name", "running")}, 3},
		{"tag wildcard", []ec2types.Filter{f("tag:Name", "checkout-*")}, 4},
		{"tag-key", []ec2types.Filter{f("tag-key", "Name")}, 4},
		{"az", []ec2types.Filter{f("availability-zone", "eu-west-1a")}, 5},
		{"values OR", []ec2types.Filter{f("tag:service", "checkout", "search")}, 10},
		{"vpc", []ec2types.Filter{f("vpc-id", "vpc-2")}, 0},
		{"instance-id", []ec2types.Filter{f("instance-id", InstanceID(3), InstanceID(7))}, 2},
	}
	for _, tc := range cases {
		got := describeIDs(t, c, &ec2.DescribeInstancesInput{Filters: tc.filters})
		if len(got) != tc.want {
			t.Errorf("%s: %d instances %v, want %d", tc.name, len(got), got, tc.want)
		}
	}
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{InstanceID(1)}})
	if err != nil {
		t.Fatal(err)
	}
	got := out.Reservations[0].Instances[0]
	if got.State.Name != ec2types.InstanceStateNameRunning || sdkaws.ToInt32(got.State.Code) != 16 ||
		sdkaws.ToString(got.Placement.AvailabilityZone) != "eu-west-1b" || sdkaws.ToString(got.VpcId) != "vpc-1" ||
		len(got.Tags) != 2 || got.LaunchTime == nil {
		t.Errorf("instance decoded as %+v", got)
	}

	_, err = c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{InstanceID(1), "i-404"}})
	if apiCode(err) != "InvalidInstanceID.NotFound" || !strings.Contains(err.Error(), "i-404") {
		t.Errorf("unknown id: %v", err)
	}
	_, err = c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{f("colour", "blue")}})
	if apiCode(err) != "InvalidParameterValue" || !strings.Contains(err.Error(), "colour") {
		t.Errorf("unknown filter: %v", err)
	}
	_, err = c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{MaxResults: sdkaws.Int32(2)})
	wantCode(t, err, "InvalidParameterValue", "MaxResults 2")
	_, err = c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{MaxResults: sdkaws.Int32(5), InstanceIds: []string{InstanceID(1)}})
	wantCode(t, err, "InvalidParameterCombination", "MaxResults with ids")
}

// readPages reads every page through a paginator's HasMorePages and
// NextPage, failing the test on an error or when more than max pages come.
func readPages[Out, Opts any](t *testing.T, max int, more func() bool, next func(context.Context, ...func(*Opts)) (*Out, error)) []*Out {
	t.Helper()
	var pages []*Out
	for more() {
		if len(pages) > max {
			t.Fatal("paginator did not stop")
		}
		pg, err := next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, pg)
	}
	return pages
}

func TestPaginationEveryInstanceOnce(t *testing.T) {
	s := startServer(t, Options{})
	seedFleet(t, s, 1000, func(i int) map[string]string { return map[string]string{"fleet": "big"} })
	c := ec2.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	seen := map[string]int{}
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{
		MaxResults: sdkaws.Int32(37),
		Filters:    []ec2types.Filter{{Name: sdkaws.String("tag:fleet"), Values: []string{"big"}}},
	})
	all := readPages(t, 100, p.HasMorePages, p.NextPage)
	pages := len(all)
	for _, out := range all {
		for _, id := range reservedIDs(out) {
			seen[id]++
		}
	}
	if len(seen) != 1000 {
		t.Errorf("saw %d distinct instances, want 1000", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s seen %d times", id, n)
		}
	}
	if pages != 28 {
		t.Errorf("%d pages of 37, want 28", pages)
	}
}

// eventually polls check until it returns "", for up to 10s, and fails
// with its last answer.
func eventually(t *testing.T, check func() string) {
	t.Helper()
	e2e.Eventually(t, 10*time.Second, check)
}

// waitState polls the endpoint until id is in state, bounded in time.
func waitState(t *testing.T, c *ec2.Client, id, state string) {
	t.Helper()
	eventually(t, func() string {
		out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(out.Reservations[0].Instances[0].State.Name); got != state {
			return fmt.Sprintf("%s still %s, want %s", id, got, state)
		}
		return ""
	})
}

func TestStateTransitions(t *testing.T) {
	log := &stateLog{}
	s := startServer(t, Options{Hooks: Hooks{InstanceState: log.add}})
	seedFleet(t, s, 2, func(int) map[string]string { return nil })
	c := ec2.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	ctx := context.Background()
	id := InstanceID(1)

	if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatalf("start of a running instance is a no-op: %v", err)
	}
	stop, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}, Force: sdkaws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	ch := stop.StoppingInstances[0]
	if ch.PreviousState.Name != ec2types.InstanceStateNameRunning || ch.CurrentState.Name != ec2types.InstanceStateNameStopping {
		t.Errorf("stop: %s -> %s, want running -> stopping", ch.PreviousState.Name, ch.CurrentState.Name)
	}
	_, err = c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	wantCode(t, err, "IncorrectInstanceState", "start while stopping")
	waiter := ec2.NewInstanceStoppedWaiter(c, func(o *ec2.InstanceStoppedWaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 50 * time.Millisecond
	})
	if err := waiter.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 10*time.Second); err != nil {
		t.Fatalf("stopped waiter: %v", err)
	}
	_, err = c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{id}})
	wantCode(t, err, "IncorrectInstanceState", "reboot of a stopped instance")
	start, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if got := start.StartingInstances[0].CurrentState.Name; got != ec2types.InstanceStateNamePending {
		t.Errorf("start: now %s, want pending", got)
	}
	waitState(t, c, id, "running")
	if _, err := c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	log.waitFor(t, id+"=running", 2)
	term, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if got := term.TerminatingInstances[0].CurrentState.Name; got != ec2types.InstanceStateNameShuttingDown {
		t.Errorf("terminate: now %s, want shutting-down", got)
	}
	waitState(t, c, id, "terminated")
	_, err = c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	wantCode(t, err, "IncorrectInstanceState", "start of a terminated instance")
	_, err = c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{InstanceID(2), "i-404"}})
	wantCode(t, err, "InvalidInstanceID.NotFound", "stop with an unknown id")
	if got, _ := s.Instance(InstanceID(2)); got.State != StateRunning {
		t.Errorf("a failed call changed %s to %s", got.ID, got.State)
	}
	if err := s.Close(); err != nil { // delivers queued hook calls
		t.Fatal(err)
	}
	want := []string{"stopping", "stopped", "pending", "running", "rebooting", "running", "shutting-down", "terminated"}
	var got []string
	for _, e := range log.list() {
		got = append(got, strings.TrimPrefix(e, id+"="))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("hook saw %v, want %v", got, want)
	}
}

func TestDryRun(t *testing.T) {
	s := startServer(t, Options{})
	seedFleet(t, s, 1, func(int) map[string]string { return nil })
	ctx := context.Background()
	id := InstanceID(1)
	allowed := ec2.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	_, err := allowed.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}, DryRun: sdkaws.Bool(true)})
	wantCode(t, err, "DryRunOperation", "permitted dry run")
	denied := ec2.NewFromConfig(sdkConfig(t, s, denyKey, testSecret))
	_, err = denied.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}, DryRun: sdkaws.Bool(true)})
	wantCode(t, err, "UnauthorizedOperation", "denied dry run")
	_, err = denied.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	wantCode(t, err, "UnauthorizedOperation", "denied stop")
	_, err = denied.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}, DryRun: sdkaws.Bool(true)})
	wantCode(t, err, "DryRunOperation", "dry run of an action not denied")
	_, err = allowed.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{"i-404"}, DryRun: sdkaws.Bool(true)})
	wantCode(t, err, "InvalidInstanceID.NotFound", "dry run on an unknown id")
	if got, _ := s.Instance(id); got.State != StateRunning {
		t.Errorf("dry runs changed the instance to %s", got.State)
	}

	tag := &ec2.CreateTagsInput{Resources: []string{id}, Tags: []ec2types.Tag{{Key: sdkaws.String("gameday"), Value: sdkaws.String("run-3")}}}
	if _, err := allowed.CreateTags(ctx, tag); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Instance(id); got.Tags["gameday"] != "run-3" {
		t.Errorf("tags after CreateTags: %v", got.Tags)
	}
	tag.Resources = []string{"i-404"}
	if _, err := allowed.CreateTags(ctx, tag); apiCode(err) != "InvalidInstanceID.NotFound" {
		t.Errorf("CreateTags on an unknown instance: %v", err)
	}
}

func TestThrottledCallsAreRetried(t *testing.T) {
	s := startServer(t, Options{})
	seedFleet(t, s, 3, func(int) map[string]string { return nil })
	s.Throttle("ec2:DescribeInstances", 2)
	s.Throttle("sts:GetCallerIdentity", 2)
	cfg := sdkConfig(t, s, testKey, testSecret)
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("sts after 2 throttles: %v", err)
	}
	if ids := describeIDs(t, ec2.NewFromConfig(cfg), &ec2.DescribeInstancesInput{}); len(ids) != 3 {
		t.Errorf("described %d instances, want 3", len(ids))
	}
	for _, op := range []string{"ec2:DescribeInstances", "sts:GetCallerIdentity"} {
		if n := s.Calls(op); n != 3 {
			t.Errorf("%s reached %d times, want 3 (2 throttled + 1)", op, n)
		}
	}
	s.Throttle("ec2:DescribeInstances", 10)
	_, err := ec2.NewFromConfig(cfg).DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{})
	wantCode(t, err, "RequestLimitExceeded", "after the retryer gives up")
}

func TestUnknownOperations(t *testing.T) {
	s := startServer(t, Options{})
	cfg := sdkConfig(t, s, testKey, testSecret)
	ctx := context.Background()
	_, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if apiCode(err) != "InvalidAction" || !strings.Contains(err.Error(), "DescribeVpcs") {
		t.Errorf("ec2 unknown action: %v, want InvalidAction naming it", err)
	}
	_, err = sts.NewFromConfig(cfg).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	wantCode(t, err, "InvalidAction", "sts unknown action")
}

func TestStartRefusesBadKeys(t *testing.T) {
	for _, keys := range [][]Key{
		nil,
		{{AccessKeyID: "a"}},
		{{AccessKeyID: "a", SecretAccessKey: "b"}, {AccessKeyID: "a", SecretAccessKey: "c"}},
	} {
		s := New(Options{Keys: keys})
		if err := s.Start(); err == nil || !strings.Contains(err.Error(), "Keys") {
			t.Errorf("keys %v: %v, want an error naming Options.Keys", keys, err)
			_ = s.Close()
		}
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	s := New(Options{Addr: "0.0.0.0:0", Keys: []Key{{AccessKeyID: "a", SecretAccessKey: "b"}}})
	if err := s.Start(); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("Start on 0.0.0.0: %v, want a loopback error", err)
		_ = s.Close()
	}
}

package aws

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// seedTenThousand adds 10,000 instances in one call; every tenth carries
// tier=canary, the rest tier=main.
func seedTenThousand(t testing.TB, s *Server) {
	t.Helper()
	ins := make([]Instance, 10000)
	for i := range ins {
		tier := "main"
		if i%10 == 0 {
			tier = "canary"
		}
		ins[i] = Instance{ID: InstanceID(i + 1), Tags: map[string]string{"service": "checkout", "tier": tier}}
	}
	if err := s.AddInstances(ins); err != nil {
		t.Fatal(err)
	}
}

// At 10,000 instances the endpoint pages by tag, answers a share of calls
// with each service's own throttling error, counts them, records how many
// instances each instance call named, and holds every call for its latency.
func TestScaleThrottlesAtARate(t *testing.T) {
	const latency = 20 * time.Millisecond
	s := startServer(t, Options{Scale: Scale{Latency: latency, ThrottleRate: 0.3, Seed: 7}})
	seedTenThousand(t, s)
	if err := s.AddInstances([]Instance{{ID: InstanceID(1)}}); err == nil {
		t.Error("an instance seeded twice was accepted")
	}
	if err := s.ThrottleRate("ec2:*", 1.5); err == nil {
		t.Error("a rate above 1 was accepted")
	}
	cfg := sdkConfig(t, s, testKey, testSecret)
	sent := &countingClient{inner: awshttp.NewBuildableClient()}
	cfg.HTTPClient = sent
	once := func(o *ec2.Options) { o.Retryer = connectionRetries() }
	c := ec2.NewFromConfig(cfg)
	sc := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.Retryer = connectionRetries() })

	checkThrottledCodes(t, s, c, sc, once, sent, latency)
	ids := pageByTag(t, s, cfg)
	checkOperationRates(t, s, c, once, sent, ids)
}

// connectionRetries surfaces every answer the endpoint gives, throttling
// included, but retries a connection Go's transport dropped under a
// response (aws/aws-sdk-go-v2#2737), as the SDK's own retryer does: under
// load that happens to about one test run in ten.
func connectionRetries() sdkaws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.MaxBackoff = 10 * time.Millisecond
		o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
	})
}

// countingClient counts the requests the SDK sent, per operation, so a
// test can hold the endpoint's counts to what really went over the wire.
type countingClient struct {
	inner *awshttp.BuildableClient
	mu    sync.Mutex
	n     map[string]int
}

func (c *countingClient) Do(r *http.Request) (*http.Response, error) {
	op := r.Header.Get("X-Amz-Target")
	if r.Body != nil && op == "" {
		// EC2's query protocol names the action in the form body.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		op = form.Get("Action")
	}
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[op]++
	c.mu.Unlock()
	return c.inner.Do(r)
}

func (c *countingClient) count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[op]
}

// checkThrottledCodes: without retries, throttled calls surface with each
// service's own code, at about the rate asked, each held for its latency,
// and the endpoint counts what the client saw.
func checkThrottledCodes(t *testing.T, s *Server, c *ec2.Client, sc *ssm.Client, once func(*ec2.Options), sent *countingClient, latency time.Duration) {
	t.Helper()
	ctx := context.Background()
	codes := map[string]int{}
	start := time.Now()
	for i := 1; i <= 100; i++ {
		_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{InstanceID(i)}}, once)
		codes["ec2 "+apiCode(err)]++
		_, err = sc.ListCommands(ctx, &ssm.ListCommandsInput{})
		codes["ssm "+apiCode(err)]++
	}
	if took := time.Since(start); took < 200*latency {
		t.Errorf("200 sequential calls took %s, less than their latency of %s each", took, latency)
	}
	stats := s.Stats()
	ec2Throttled, ssmThrottled := codes["ec2 RequestLimitExceeded"], codes["ssm ThrottlingException"]
	if ec2Throttled+codes["ec2 "] != 100 || ssmThrottled+codes["ssm "] != 100 {
		t.Errorf("errors other than throttling: %v", codes)
	}
	if ec2Throttled < 10 || ec2Throttled > 50 || ssmThrottled < 10 || ssmThrottled > 50 {
		t.Errorf("throttled %d EC2 and %d SSM calls of 100 each at a rate of 30%%", ec2Throttled, ssmThrottled)
	}
	// A retried dropped connection is a call the endpoint answered (and
	// maybe throttled) whose answer the client never read.
	if st, n := stats["ec2:DescribeInstances"], sent.count("DescribeInstances"); st.Calls != n || st.Throttled < ec2Throttled || st.Throttled > ec2Throttled+n-100 || len(st.Batches) != st.Calls-st.Throttled {
		t.Errorf("DescribeInstances stats %d calls, %d throttled, %d batches; the client sent %d and saw %d throttled", st.Calls, st.Throttled, len(st.Batches), n, ec2Throttled)
	}
	if st, n := stats["ssm:ListCommands"], sent.count("AmazonSSM.ListCommands"); st.Calls != n || st.Throttled < ssmThrottled || st.Throttled > ssmThrottled+n-100 {
		t.Errorf("ListCommands: %d calls, %d throttled; the client sent %d and saw %d throttled", st.Calls, st.Throttled, n, ssmThrottled)
	}

}

// pageByTag: the SDK's paginator, with its retryer, reads every page by
// tag; it returns the 1,000 canaries.
func pageByTag(t *testing.T, s *Server, cfg sdkaws.Config) []string {
	t.Helper()
	s.SetLatency(0)
	before := s.Stats()["ec2:DescribeInstances"]
	ids := pagedIDs(t, ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 20) }),
		&ec2.DescribeInstancesInput{MaxResults: sdkaws.Int32(1000), Filters: []ec2types.Filter{{Name: sdkaws.String("tag:tier"), Values: []string{"canary"}}}})
	after := s.Stats()["ec2:DescribeInstances"]
	if len(ids) != 1000 || after.Calls-after.Throttled-(before.Calls-before.Throttled) != 1 {
		t.Errorf("resolved %d canaries in %d answered pages, want 1,000 in one", len(ids), after.Calls-after.Throttled-(before.Calls-before.Throttled))
	}

	return ids
}

// checkOperationRates: per-operation rates win over the endpoint's, and
// instance calls record their batch sizes.
func checkOperationRates(t *testing.T, s *Server, c *ec2.Client, once func(*ec2.Options), sent *countingClient, ids []string) {
	t.Helper()
	ctx := context.Background()
	if err := s.ThrottleRate("ec2:StopInstances", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.ThrottleRate("ec2:StartInstances", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids[:100]}, once); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: ids[:100]}, once); apiCode(err) != "RequestLimitExceeded" {
		t.Errorf("StartInstances at a rate of 1: %v", err)
	}
	stats := s.Stats()
	if st, n := stats["ec2:StopInstances"], sent.count("StopInstances"); n < 1 || st.Calls != n || st.Throttled != 0 || len(st.Batches) != n || slices.ContainsFunc(st.Batches, func(b int) bool { return b != 100 }) {
		t.Errorf("StopInstances stats %+v; the client sent %d", st, n)
	}
	if st, n := stats["ec2:StartInstances"], sent.count("StartInstances"); n < 1 || st.Calls != n || st.Throttled != n || len(st.Batches) != 0 {
		t.Errorf("StartInstances stats %+v; the client sent %d", st, n)
	}
}

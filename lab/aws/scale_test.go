package aws

import (
	"context"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
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
	once := func(o *ec2.Options) { o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 1) }
	c := ec2.NewFromConfig(cfg)
	sc := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 1) })

	checkThrottledCodes(t, s, c, sc, once, latency)
	ids := pageByTag(t, s, cfg)
	checkOperationRates(t, s, c, once, ids)

}

// checkThrottledCodes: without retries, throttled calls surface with each
// service's own code, at about the rate asked, each held for its latency,
// and the endpoint counts what the client saw.
func checkThrottledCodes(t *testing.T, s *Server, c *ec2.Client, sc *ssm.Client, once func(*ec2.Options), latency time.Duration) {
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
	if st := stats["ec2:DescribeInstances"]; st.Calls != 100 || st.Throttled != ec2Throttled || len(st.Batches) != 100-ec2Throttled {
		t.Errorf("DescribeInstances stats %d calls, %d throttled, %d batches; the client saw %d throttled", st.Calls, st.Throttled, len(st.Batches), ec2Throttled)
	}
	if st := stats["ssm:ListCommands"]; st.Throttled != ssmThrottled {
		t.Errorf("ListCommands: %d throttled, the client saw %d", st.Throttled, ssmThrottled)
	}

}

// pageByTag: the SDK's paginator, with its retryer, reads every page by
// tag; it returns the 1,000 canaries.
func pageByTag(t *testing.T, s *Server, cfg sdkaws.Config) []string {
	t.Helper()
	ctx := context.Background()
	s.SetLatency(0)
	before := s.Stats()["ec2:DescribeInstances"]
	var ids []string
	p := ec2.NewDescribeInstancesPaginator(ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 20) }),
		&ec2.DescribeInstancesInput{MaxResults: sdkaws.Int32(1000), Filters: []ec2types.Filter{{Name: sdkaws.String("tag:tier"), Values: []string{"canary"}}}})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				ids = append(ids, sdkaws.ToString(in.InstanceId))
			}
		}
	}
	after := s.Stats()["ec2:DescribeInstances"]
	if len(ids) != 1000 || after.Calls-after.Throttled-(before.Calls-before.Throttled) != 1 {
		t.Errorf("resolved %d canaries in %d answered pages, want 1,000 in one", len(ids), after.Calls-after.Throttled-(before.Calls-before.Throttled))
	}

	return ids
}

// checkOperationRates: per-operation rates win over the endpoint's, and
// instance calls record their batch sizes.
func checkOperationRates(t *testing.T, s *Server, c *ec2.Client, once func(*ec2.Options), ids []string) {
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
	if st := stats["ec2:StopInstances"]; st.Calls != 1 || st.Throttled != 0 || len(st.Batches) != 1 || st.Batches[0] != 100 {
		t.Errorf("StopInstances stats %+v", st)
	}
	if st := stats["ec2:StartInstances"]; st.Calls != 1 || st.Throttled != 1 || len(st.Batches) != 0 {
		t.Errorf("StartInstances stats %+v", st)
	}
}

package aws

import (
	"context"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gameday/gameday/targets"
)

// Small fakes of the client interfaces, for the logic the lab endpoint
// cannot easily put us in. Unfaked methods are nil and panic if called.

type fakeSTS struct{ account string }

func (f *fakeSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return &sts.GetCallerIdentityOutput{Account: sdkaws.String(f.account)}, nil
}

type fakeEC2 struct {
	EC2API
	mu     sync.Mutex
	states map[string]ec2types.InstanceStateName
	calls  []string
}

func (f *fakeEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "DescribeInstances")
	var r ec2types.Reservation
	for _, id := range in.InstanceIds {
		st, ok := f.states[id]
		if !ok {
			continue
		}
		r.Instances = append(r.Instances, ec2types.Instance{InstanceId: sdkaws.String(id), State: &ec2types.InstanceState{Name: st}})
		// Each look moves a transition along, as time would.
		switch st {
		case ec2types.InstanceStateNameStopping:
			f.states[id] = ec2types.InstanceStateNameStopped
		case ec2types.InstanceStateNamePending:
			f.states[id] = ec2types.InstanceStateNameRunning
		}
	}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{r}}, nil
}

func (f *fakeEC2) StartInstances(_ context.Context, in *ec2.StartInstancesInput, _ ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "StartInstances")
	for _, id := range in.InstanceIds {
		f.states[id] = ec2types.InstanceStateNamePending
	}
	return &ec2.StartInstancesOutput{}, nil
}

func (f *fakeEC2) StopInstances(_ context.Context, in *ec2.StopInstancesInput, _ ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if sdkaws.ToBool(in.DryRun) {
		f.calls = append(f.calls, "StopInstances(DryRun)")
		return nil, &smithy.GenericAPIError{Code: "DryRunOperation", Message: "Request would have succeeded, but DryRun flag is set."}
	}
	f.calls = append(f.calls, "StopInstances")
	for _, id := range in.InstanceIds {
		f.states[id] = ec2types.InstanceStateNameStopping
	}
	return &ec2.StopInstancesOutput{}, nil
}

type fakeLambda struct {
	LambdaAPI
	mu       sync.Mutex
	env      map[string]string
	revision int
	conc     *int32
	updates  int
}

func (f *fakeLambda) rev() string { return "rev-" + string(rune('a'+f.revision)) }

func (f *fakeLambda) GetFunctionConfiguration(_ context.Context, in *lambda.GetFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	env := map[string]string{}
	for k, v := range f.env {
		env[k] = v
	}
	return &lambda.GetFunctionConfigurationOutput{FunctionName: in.FunctionName, RevisionId: sdkaws.String(f.rev()),
		Environment: &lambdatypes.EnvironmentResponse{Variables: env}}, nil
}

func (f *fakeLambda) UpdateFunctionConfiguration(_ context.Context, in *lambda.UpdateFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.RevisionId != nil && *in.RevisionId != f.rev() {
		return nil, &smithy.GenericAPIError{Code: "PreconditionFailedException", Message: "The Revision Id provided does not match the latest Revision Id."}
	}
	f.env = map[string]string{}
	for k, v := range in.Environment.Variables {
		f.env[k] = v
	}
	f.revision++
	f.updates++
	return &lambda.UpdateFunctionConfigurationOutput{RevisionId: sdkaws.String(f.rev())}, nil
}

func (f *fakeLambda) GetFunctionConcurrency(context.Context, *lambda.GetFunctionConcurrencyInput, ...func(*lambda.Options)) (*lambda.GetFunctionConcurrencyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &lambda.GetFunctionConcurrencyOutput{ReservedConcurrentExecutions: f.conc}, nil
}

func (f *fakeLambda) PutFunctionConcurrency(_ context.Context, in *lambda.PutFunctionConcurrencyInput, _ ...func(*lambda.Options)) (*lambda.PutFunctionConcurrencyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := *in.ReservedConcurrentExecutions
	f.conc = &n
	return &lambda.PutFunctionConcurrencyOutput{}, nil
}

func (f *fakeLambda) DeleteFunctionConcurrency(context.Context, *lambda.DeleteFunctionConcurrencyInput, ...func(*lambda.Options)) (*lambda.DeleteFunctionConcurrencyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.conc = nil
	return &lambda.DeleteFunctionConcurrencyOutput{}, nil
}

// hermetic keeps the SDK away from the machine's own AWS files and
// credentials.
func hermetic(t testing.TB) []func(*config.LoadOptions) error {
	t.Helper()
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CA_BUNDLE"} {
		t.Setenv(k, "")
	}
	return []func(*config.LoadOptions) error{
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	}
}

// preflightInject runs inj's preflight and then its inject, as the engine
// does, failing the test on either's error.
func preflightInject(ctx context.Context, t testing.TB, e *Executor, inj *targets.Injection) {
	t.Helper()
	if err := e.Preflight(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Inject(ctx, inj); err != nil {
		t.Fatal(err)
	}
}

// fakeExecutor returns an executor whose every session uses c.
func fakeExecutor(t *testing.T, c *Clients) *Executor {
	t.Helper()
	return New(Options{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		LoadOptions: hermetic(t),
		Poll:        time.Millisecond,
		Wait:        5 * time.Second,
		NewClients:  func(sdkaws.Config, string) *Clients { return c },
	})
}

func member(id, account string, labels map[string]string) targets.Member {
	l := map[string]string{LabelRegion: "eu-west-1", LabelAccount: account}
	for k, v := range labels {
		l[k] = v
	}
	return targets.Member{Target: "t", ID: id, Labels: l}
}

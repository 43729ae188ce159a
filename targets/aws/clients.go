package aws

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/fis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
)

// The narrow client interfaces: exactly the calls the attacks make, so the
// IAM policies in docs/aws.md can be checked against them and no attack
// reaches for a call they do not grant.

// STSAPI names the account the credentials act in.
type STSAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, opts ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// EC2API finds, stops, starts, reboots and terminates instances, and
// takes rules out of security groups and puts them back.
type EC2API interface {
	ec2.DescribeInstancesAPIClient
	StopInstances(ctx context.Context, in *ec2.StopInstancesInput, opts ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error)
	StartInstances(ctx context.Context, in *ec2.StartInstancesInput, opts ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error)
	RebootInstances(ctx context.Context, in *ec2.RebootInstancesInput, opts ...func(*ec2.Options)) (*ec2.RebootInstancesOutput, error)
	TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, opts ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
	ec2.DescribeSecurityGroupsAPIClient
	ec2.DescribeSecurityGroupRulesAPIClient
	RevokeSecurityGroupIngress(ctx context.Context, in *ec2.RevokeSecurityGroupIngressInput, opts ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
	RevokeSecurityGroupEgress(ctx context.Context, in *ec2.RevokeSecurityGroupEgressInput, opts ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error)
	AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, opts ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	AuthorizeSecurityGroupEgress(ctx context.Context, in *ec2.AuthorizeSecurityGroupEgressInput, opts ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error)
}

// SSMAPI runs shell scripts on instances, reads how they went and stops
// them.
type SSMAPI interface {
	SendCommand(ctx context.Context, in *ssm.SendCommandInput, opts ...func(*ssm.Options)) (*ssm.SendCommandOutput, error)
	CancelCommand(ctx context.Context, in *ssm.CancelCommandInput, opts ...func(*ssm.Options)) (*ssm.CancelCommandOutput, error)
	ssm.ListCommandInvocationsAPIClient
}

// FISAPI starts, follows and stops experiments, and makes and deletes the
// templates of engine: fis.
type FISAPI interface {
	CreateExperimentTemplate(ctx context.Context, in *fis.CreateExperimentTemplateInput, opts ...func(*fis.Options)) (*fis.CreateExperimentTemplateOutput, error)
	DeleteExperimentTemplate(ctx context.Context, in *fis.DeleteExperimentTemplateInput, opts ...func(*fis.Options)) (*fis.DeleteExperimentTemplateOutput, error)
	ListExperimentTemplates(ctx context.Context, in *fis.ListExperimentTemplatesInput, opts ...func(*fis.Options)) (*fis.ListExperimentTemplatesOutput, error)
	GetExperimentTemplate(ctx context.Context, in *fis.GetExperimentTemplateInput, opts ...func(*fis.Options)) (*fis.GetExperimentTemplateOutput, error)
	StartExperiment(ctx context.Context, in *fis.StartExperimentInput, opts ...func(*fis.Options)) (*fis.StartExperimentOutput, error)
	GetExperiment(ctx context.Context, in *fis.GetExperimentInput, opts ...func(*fis.Options)) (*fis.GetExperimentOutput, error)
	StopExperiment(ctx context.Context, in *fis.StopExperimentInput, opts ...func(*fis.Options)) (*fis.StopExperimentOutput, error)
	ListExperiments(ctx context.Context, in *fis.ListExperimentsInput, opts ...func(*fis.Options)) (*fis.ListExperimentsOutput, error)
}

// LambdaAPI reads and changes a function's configuration and concurrency.
type LambdaAPI interface {
	lambda.ListFunctionsAPIClient
	ListTags(ctx context.Context, in *lambda.ListTagsInput, opts ...func(*lambda.Options)) (*lambda.ListTagsOutput, error)
	GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
	UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, opts ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
	GetFunctionConcurrency(ctx context.Context, in *lambda.GetFunctionConcurrencyInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionConcurrencyOutput, error)
	PutFunctionConcurrency(ctx context.Context, in *lambda.PutFunctionConcurrencyInput, opts ...func(*lambda.Options)) (*lambda.PutFunctionConcurrencyOutput, error)
	DeleteFunctionConcurrency(ctx context.Context, in *lambda.DeleteFunctionConcurrencyInput, opts ...func(*lambda.Options)) (*lambda.DeleteFunctionConcurrencyOutput, error)
}

// ECSAPI finds and stops tasks.
type ECSAPI interface {
	ecs.ListTasksAPIClient
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	StopTask(ctx context.Context, in *ecs.StopTaskInput, opts ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
}

// RDSAPI finds clusters and instances and fails them over.
type RDSAPI interface {
	rds.DescribeDBClustersAPIClient
	rds.DescribeDBInstancesAPIClient
	FailoverDBCluster(ctx context.Context, in *rds.FailoverDBClusterInput, opts ...func(*rds.Options)) (*rds.FailoverDBClusterOutput, error)
	RebootDBInstance(ctx context.Context, in *rds.RebootDBInstanceInput, opts ...func(*rds.Options)) (*rds.RebootDBInstanceOutput, error)
}

// AutoScalingAPI finds groups and suspends and resumes their processes.
type AutoScalingAPI interface {
	autoscaling.DescribeAutoScalingGroupsAPIClient
	SuspendProcesses(ctx context.Context, in *autoscaling.SuspendProcessesInput, opts ...func(*autoscaling.Options)) (*autoscaling.SuspendProcessesOutput, error)
	ResumeProcesses(ctx context.Context, in *autoscaling.ResumeProcessesInput, opts ...func(*autoscaling.Options)) (*autoscaling.ResumeProcessesOutput, error)
}

// DynamoDBAPI reads and changes a table's provisioned capacity.
type DynamoDBAPI interface {
	dynamodb.ListTablesAPIClient
	ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, opts ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTable(ctx context.Context, in *dynamodb.UpdateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
}

// Clients is one set of service clients for one profile, region and
// endpoint.
type Clients struct {
	STS    STSAPI
	EC2    EC2API
	SSM    SSMAPI
	FIS    FISAPI
	Lambda LambdaAPI
	ECS    ECSAPI
	RDS    RDSAPI
	ASG    AutoScalingAPI
	Dynamo DynamoDBAPI
}

// sdkClients builds the real clients. A runbook's endpoint is set on each
// service, after the SDK's own resolution, so that it wins over
// AWS_ENDPOINT_URL_<SERVICE> as the runbook is the more specific place.
func sdkClients(cfg sdkaws.Config, endpoint string) *Clients {
	var ep *string
	if endpoint != "" {
		ep = sdkaws.String(endpoint)
	}
	return &Clients{
		STS:    sts.NewFromConfig(cfg, endpointAt(ep, func(o *sts.Options) **string { return &o.BaseEndpoint })),
		EC2:    ec2.NewFromConfig(cfg, endpointAt(ep, func(o *ec2.Options) **string { return &o.BaseEndpoint })),
		SSM:    ssm.NewFromConfig(cfg, endpointAt(ep, func(o *ssm.Options) **string { return &o.BaseEndpoint })),
		FIS:    fis.NewFromConfig(cfg, endpointAt(ep, func(o *fis.Options) **string { return &o.BaseEndpoint })),
		Lambda: lambda.NewFromConfig(cfg, endpointAt(ep, func(o *lambda.Options) **string { return &o.BaseEndpoint })),
		ECS:    ecs.NewFromConfig(cfg, endpointAt(ep, func(o *ecs.Options) **string { return &o.BaseEndpoint })),
		RDS:    rds.NewFromConfig(cfg, endpointAt(ep, func(o *rds.Options) **string { return &o.BaseEndpoint })),
		ASG:    autoscaling.NewFromConfig(cfg, endpointAt(ep, func(o *autoscaling.Options) **string { return &o.BaseEndpoint })),
		Dynamo: dynamodb.NewFromConfig(cfg, endpointAt(ep, func(o *dynamodb.Options) **string { return &o.BaseEndpoint })),
	}
}

// endpointAt is a service option that puts the runbook's endpoint, when
// there is one, in the service's BaseEndpoint (which field picks, as each
// service has its own Options type).
func endpointAt[O any](ep *string, field func(*O) **string) func(*O) {
	return func(o *O) {
		if ep != nil {
			*field(o) = ep
		}
	}
}

// where is the place a set of clients acts: the cache key, and what a
// member's labels record.
type where struct {
	Profile, Region, Endpoint string
}

func (w where) String() string {
	s := w.Region
	if w.Profile != "" {
		s += ", profile " + w.Profile
	}
	if w.Endpoint != "" {
		s += ", endpoint " + w.Endpoint
	}
	return s
}

// session is a set of clients and the account they act in.
type session struct {
	where
	*Clients
	account string
	// expires is when the credentials lapse; zero when they do not.
	expires time.Time
}

// sessions caches one session per place. A failed load or identity call
// is not cached: the next call tries again.
type sessions struct {
	opts Options
	mu   sync.Mutex
	m    map[where]*sessionEntry
}

type sessionEntry struct {
	mu sync.Mutex
	s  *session
}

// get returns the session for w, loading configuration and asking STS who
// we are the first time.
func (ss *sessions) get(ctx context.Context, w where) (*session, error) {
	ss.mu.Lock()
	if ss.m == nil {
		ss.m = map[where]*sessionEntry{}
	}
	e := ss.m[w]
	if e == nil {
		e = &sessionEntry{}
		ss.m[w] = e
	}
	ss.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.s != nil {
		return e.s, nil
	}
	cfg, err := ss.load(ctx, w)
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("no AWS region: set region on the target, AWS_REGION, or a region in profile %q", cmp.Or(w.Profile, "default"))
	}
	w.Region = cfg.Region
	creds, err := retrieve(ctx, cfg, w)
	if err != nil {
		return nil, err
	}
	c := sdkClients(cfg, w.Endpoint)
	id, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		if expiredCode(apiCode(err)) {
			return nil, fmt.Errorf("%w (%s): sts GetCallerIdentity: the session credentials have expired (%s); renew them (aws sso login --profile %s, or new session keys) and run again", ErrCredentials, w, explain(err), profileName(w))
		}
		return nil, fmt.Errorf("sts GetCallerIdentity (%s): %w", w, explain(err))
	}
	acct := sdkaws.ToString(id.Account)
	if acct == "" {
		return nil, fmt.Errorf("sts GetCallerIdentity (%s) named no account", w)
	}
	e.s = &session{where: w, Clients: c, account: acct}
	if creds.CanExpire {
		e.s.expires = creds.Expires
	}
	return e.s, nil
}

func (ss *sessions) load(ctx context.Context, w where) (sdkaws.Config, error) {
	o := ss.opts
	lo := []func(*config.LoadOptions) error{
		// The SDK logs to stderr by default, which the console owns.
		config.WithLogger(logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
			o.Logf("aws sdk %s: "+format, append([]any{c}, v...)...)
		})),
		config.WithRetryer(func() sdkaws.Retryer { return newRetryer(o) }),
	}
	if w.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(w.Profile))
	}
	if w.Region != "" {
		lo = append(lo, config.WithRegion(w.Region))
	}
	if w.Endpoint != "" {
		lo = append(lo, config.WithBaseEndpoint(w.Endpoint))
	}
	if o.Credentials != nil {
		lo = append(lo, config.WithCredentialsProvider(o.Credentials))
	}
	lo = append(lo, o.LoadOptions...)
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return cfg, fmt.Errorf("load AWS configuration (%s): %w", w, err)
	}
	return cfg, nil
}

// guard refuses an account the target does not list. The message names
// both sides, since the usual cause is a profile pointing somewhere else.
func guard(s *session, allowed []string) error {
	if len(allowed) == 0 {
		return fmt.Errorf("the credentials act in account %s (%s), and the target lists no accounts; add accounts: [\"%s\"] to the target if that is the account to attack", s.account, s.where, s.account)
	}
	if !slices.Contains(allowed, s.account) {
		return fmt.Errorf("refusing account %s (%s): the target allows only %s", s.account, s.where, strings.Join(allowed, ", "))
	}
	return nil
}

// apiCode is the AWS error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// explain shortens an SDK error to the part a person reads: the operation
// and the service's code and message, without the request id plumbing.
func explain(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := ae.ErrorMessage()
		if msg == "" {
			return fmt.Errorf("%s", ae.ErrorCode())
		}
		return fmt.Errorf("%s: %s", ae.ErrorCode(), msg)
	}
	return err
}

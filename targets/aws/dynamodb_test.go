package aws

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

type fakeTable struct {
	capacity
	onDemand bool
	updating bool
	tags     map[string]string
}

type fakeDynamo struct {
	mu      sync.Mutex
	tables  map[string]*fakeTable
	updates int
}

func (f *fakeDynamo) ListTables(context.Context, *dynamodb.ListTablesInput, ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out dynamodb.ListTablesOutput
	for name := range f.tables {
		out.TableNames = append(out.TableNames, name)
	}
	slices.Sort(out.TableNames)
	return &out, nil
}

func (f *fakeDynamo) ListTagsOfResource(_ context.Context, in *dynamodb.ListTagsOfResourceInput, _ ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out dynamodb.ListTagsOfResourceOutput
	name := strings.TrimPrefix(*in.ResourceArn, "arn:aws:dynamodb:eu-west-1:111111111111:table/")
	for k, v := range f.tables[name].tags {
		out.Tags = append(out.Tags, ddbtypes.Tag{Key: sdkaws.String(k), Value: sdkaws.String(v)})
	}
	return &out, nil
}

func (f *fakeDynamo) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tables[*in.TableName]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "Requested resource not found"}
	}
	d := &ddbtypes.TableDescription{TableName: in.TableName, TableArn: sdkaws.String("arn:aws:dynamodb:eu-west-1:111111111111:table/" + *in.TableName),
		TableStatus:           ddbtypes.TableStatusActive,
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughputDescription{ReadCapacityUnits: sdkaws.Int64(t.read), WriteCapacityUnits: sdkaws.Int64(t.write)}}
	if t.updating {
		d.TableStatus = ddbtypes.TableStatusUpdating
		t.updating = false // the next look finds the update applied
	}
	if t.onDemand {
		d.BillingModeSummary = &ddbtypes.BillingModeSummary{BillingMode: ddbtypes.BillingModePayPerRequest}
	}
	return &dynamodb.DescribeTableOutput{Table: d}, nil
}

func (f *fakeDynamo) UpdateTable(_ context.Context, in *dynamodb.UpdateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tables[*in.TableName]
	if t.updating {
		return nil, &smithy.GenericAPIError{Code: "ResourceInUseException", Message: "table is being updated"}
	}
	t.read, t.write = *in.ProvisionedThroughput.ReadCapacityUnits, *in.ProvisionedThroughput.WriteCapacityUnits
	t.updating = true
	f.updates++
	return &dynamodb.UpdateTableOutput{}, nil
}

func TestDynamoDBCapacity(t *testing.T) {
	f := &fakeDynamo{tables: map[string]*fakeTable{
		"orders":   {capacity: capacity{100, 40}, tags: map[string]string{"service": "checkout"}},
		"sessions": {onDemand: true, tags: map[string]string{"service": "checkout"}},
		"other":    {capacity: capacity{5, 5}},
	}}
	e := fakeExecutor(t, &Clients{STS: &fakeSTS{account: fakeAccount}, Dynamo: f})
	members := resolveFake(t, e, runbook.AWSTarget{Resource: "dynamodb:table", Tags: map[string]string{"service": "checkout"}})
	if len(members) != 2 || members[0].ID != "orders" || members[0].Labels[LabelRead] != "100" {
		t.Fatalf("members %+v", members)
	}
	ctx := context.Background()
	if err := e.Preflight(ctx, targets.Injection{Kind: "dynamodb-capacity", Member: members[1]}); err == nil || !strings.Contains(err.Error(), "on-demand") {
		t.Errorf("on-demand table: %v", err)
	}
	inj := &targets.Injection{RunID: "r1", Attack: "starve", Kind: "dynamodb-capacity", Member: members[0], Duration: time.Minute, Params: map[string]string{"keep": "10"}}
	preflightInject(ctx, t, e, inj)
	if c := f.tables["orders"].capacity; c != (capacity{10, 4}) {
		t.Fatalf("after inject: %s", c)
	}
	// From the intent alone, while the table is still updating, then again.
	lost := *inj
	lost.State = nil
	for i, x := range []targets.Injection{lost, *inj} {
		if _, err := e.Rollback(ctx, x); err != nil {
			t.Fatalf("rollback %d: %v", i, err)
		}
		if c := f.tables["orders"].capacity; c != (capacity{100, 40}) {
			t.Fatalf("rollback %d: %s", i, c)
		}
	}
	// Changed by someone else after the attack: left alone, and said why.
	if _, err := e.Inject(ctx, inj); err != nil {
		t.Fatal(err)
	}
	f.tables["orders"].capacity = capacity{50, 50}
	if _, err := e.Rollback(ctx, *inj); err == nil || !strings.Contains(err.Error(), "someone changed it") || f.tables["orders"].capacity != (capacity{50, 50}) {
		t.Errorf("rollback over a change: %v, %s", err, f.tables["orders"].capacity)
	}
}

package aws

import (
	"context"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestDynamoDBCapacity(t *testing.T) {
	s := startServer(t, Options{})
	for _, tb := range []Table{
		{Name: "orders", Read: 100, Write: 50, Indexes: []TableIndex{{Name: "by-customer", Read: 20, Write: 10}}, Tags: map[string]string{"service": "orders"}},
		{Name: "sessions", OnDemand: true},
		{Name: "carts"},
	} {
		if err := s.AddTable(tb); err != nil {
			t.Fatal(err)
		}
	}
	c := dynamodb.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	ctx := context.Background()

	listAndDescribeTables(t, ctx, c)
	decreaseAndRestore(t, ctx, c, s)
	fifthDecreaseRefused(t, ctx, c, s)

	_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: sdkaws.String("sessions"),
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: sdkaws.Int64(1), WriteCapacityUnits: sdkaws.Int64(1)}})
	wantCode(t, err, "ValidationException", "capacity on an on-demand table")
	_, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: sdkaws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException", "unknown table")
	_, err = c.Scan(ctx, &dynamodb.ScanInput{TableName: sdkaws.String("orders")})
	wantCode(t, err, "UnknownOperationException", "unknown operation")
}

// waitActive waits for the table to finish updating.
func waitActive(t *testing.T, s *Server, name string) {
	t.Helper()
	eventually(t, func() string {
		if got, _ := s.Table(name); got.Status != "ACTIVE" {
			return name + " still " + got.Status
		}
		return ""
	})
}

// listAndDescribeTables lists tables page by page, and reads one's capacity,
// index and tags.
func listAndDescribeTables(t *testing.T, ctx context.Context, c *dynamodb.Client) {
	var names []string
	p := dynamodb.NewListTablesPaginator(c, &dynamodb.ListTablesInput{Limit: sdkaws.Int32(2)})
	for _, pg := range readPages(t, 5, p.HasMorePages, p.NextPage) {
		names = append(names, pg.TableNames...)
	}
	if strings.Join(names, ",") != "carts,orders,sessions" {
		t.Errorf("tables %v", names)
	}
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: sdkaws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	tb := d.Table
	if sdkaws.ToInt64(tb.ProvisionedThroughput.ReadCapacityUnits) != 100 || tb.TableStatus != ddbtypes.TableStatusActive ||
		len(tb.GlobalSecondaryIndexes) != 1 || sdkaws.ToInt64(tb.GlobalSecondaryIndexes[0].ProvisionedThroughput.WriteCapacityUnits) != 10 {
		t.Errorf("table %+v", tb)
	}
	tags, err := c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: tb.TableArn})
	if err != nil || len(tags.Tags) != 1 || sdkaws.ToString(tags.Tags[0].Value) != "orders" {
		t.Errorf("tags: %v %+v", err, tags)
	}
}

// decreaseAndRestore reduces a table and its index to 10%, waits for
// ACTIVE, and restores the table.
func decreaseAndRestore(t *testing.T, ctx context.Context, c *dynamodb.Client, s *Server) {
	down := &dynamodb.UpdateTableInput{TableName: sdkaws.String("orders"),
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: sdkaws.Int64(10), WriteCapacityUnits: sdkaws.Int64(5)},
		GlobalSecondaryIndexUpdates: []ddbtypes.GlobalSecondaryIndexUpdate{{Update: &ddbtypes.UpdateGlobalSecondaryIndexAction{IndexName: sdkaws.String("by-customer"),
			ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: sdkaws.Int64(2), WriteCapacityUnits: sdkaws.Int64(1)}}}}}
	up, err := c.UpdateTable(ctx, down)
	if err != nil {
		t.Fatal(err)
	}
	if up.TableDescription.TableStatus != ddbtypes.TableStatusUpdating || sdkaws.ToInt64(up.TableDescription.ProvisionedThroughput.NumberOfDecreasesToday) != 1 {
		t.Errorf("after decrease: %+v", up.TableDescription)
	}
	_, err = c.UpdateTable(ctx, down)
	wantCode(t, err, "ResourceInUseException", "update while updating")
	waitActive(t, s, "orders")
	_, err = c.UpdateTable(ctx, down)
	if apiCode(err) != "ValidationException" || !strings.Contains(err.Error(), "will not change") {
		t.Errorf("same values: %v", err)
	}
	restore := &dynamodb.UpdateTableInput{TableName: sdkaws.String("orders"),
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: sdkaws.Int64(100), WriteCapacityUnits: sdkaws.Int64(50)}}
	if _, err := c.UpdateTable(ctx, restore); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Table("orders"); got.Read != 100 || got.Indexes[0].Read != 2 {
		t.Errorf("after restore: %+v", got)
	}
}

// fifthDecreaseRefused: the fifth decrease of a UTC day is refused.
func fifthDecreaseRefused(t *testing.T, ctx context.Context, c *dynamodb.Client, s *Server) {
	for i := int64(1); i <= 4; i++ {
		waitActive(t, s, "carts")
		_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: sdkaws.String("carts"),
			ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: sdkaws.Int64(5 - i), WriteCapacityUnits: sdkaws.Int64(5)}})
		if err != nil {
			t.Fatalf("decrease %d of the day: %v", i, err)
		}
	}
	waitActive(t, s, "carts")
	_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: sdkaws.String("carts"),
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: sdkaws.Int64(1), WriteCapacityUnits: sdkaws.Int64(4)}})
	wantCode(t, err, "LimitExceededException", "fifth decrease")
}

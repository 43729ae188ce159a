package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// tableCapacity reads a table back from the endpoint, not from what the
// executor believes it set.
func tableCapacity(t *testing.T, srv *labaws.Server, name string) (read, write int64) {
	t.Helper()
	tb, ok := srv.Table(name)
	if !ok {
		t.Fatalf("table %s is gone from the endpoint", name)
	}
	return tb.Read, tb.Write
}

// wantCapacity fails the test unless the endpoint holds read and write
// units for the table; when says at which step.
func wantCapacity(t *testing.T, srv *labaws.Server, name string, read, write int64, when string) {
	t.Helper()
	if r, w := tableCapacity(t, srv, name); r != read || w != write {
		t.Fatalf("%s: table %s has read %d, write %d, want %d, %d", when, name, r, w, read, write)
	}
}

// wantCalls fails the test unless op has reached the endpoint n times.
func wantCalls(t *testing.T, srv *labaws.Server, op string, n int, when string) {
	t.Helper()
	if got := srv.Calls(op); got != n {
		t.Fatalf("%s: %s called %d times, want %d", when, op, got, n)
	}
}

func tableActive(srv *labaws.Server, name string) func() bool {
	return func() bool { tb, _ := srv.Table(name); return tb.Status == "ACTIVE" }
}

func TestLabDynamoDBCapacity(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	for _, tb := range []labaws.Table{
		{Name: "orders", Read: 100, Write: 40, Tags: checkout},
		{Name: "sessions", OnDemand: true, Tags: checkout},
		{Name: "search", Read: 7, Write: 7, Tags: map[string]string{"service": "search"}},
	} {
		if err := srv.AddTable(tb); err != nil {
			t.Fatal(err)
		}
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()

	orders, sessions := resolveCheckoutTables(t, e)

	// On-demand billing has no capacity to cut: refused before anything
	// is changed, and the reason is named.
	err := e.Preflight(ctx, targets.Injection{RunID: "r-ddb", Attack: "starve", Kind: "dynamodb-capacity", Member: sessions, Duration: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "sessions") || !strings.Contains(err.Error(), "on-demand (PAY_PER_REQUEST)") {
		t.Errorf("preflight of an on-demand table: %v", err)
	}
	wantCalls(t, srv, "dynamodb:UpdateTable", 0, "preflight")

	inj := &targets.Injection{RunID: "r-ddb", Attack: "starve", Kind: "dynamodb-capacity", Member: orders, Duration: time.Minute, Params: map[string]string{"keep": "10"}}
	if err := e.Preflight(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	wantCapacity(t, srv, "orders", 100, 40, "after preflight")
	res, err := e.Inject(ctx, inj)
	if err != nil {
		t.Fatal(err)
	}
	wantCapacity(t, srv, "orders", 10, 4, "after inject with keep 10% ("+res.Output+")")
	if inj.State["previous_read"] != "100" || inj.State["previous_write"] != "40" {
		t.Errorf("recorded state %v", inj.State)
	}
	wantCapacity(t, srv, "search", 7, 7, "a table outside the target")

	// Roll back from the journal alone, at once: the table is usually still
	// UPDATING from the inject, which the endpoint would refuse to change.
	fresh := labExecutor(t, srv, "AKIDGAMEDAY")
	if _, err := fresh.Rollback(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	wantCapacity(t, srv, "orders", 100, 40, "after rollback")
	wantCalls(t, srv, "dynamodb:UpdateTable", 2, "one inject and one rollback")
	waitFor(t, "orders to be ACTIVE after the rollback", tableActive(srv, "orders"))
	res, err = fresh.Rollback(ctx, *inj)
	if err != nil || !strings.Contains(res.Output, "as before") {
		t.Fatalf("second rollback: %v, %q", err, res.Output)
	}
	wantCalls(t, srv, "dynamodb:UpdateTable", 2, "second rollback")
	wantCapacity(t, srv, "orders", 100, 40, "after the second rollback")

	// The same, at once, from the intent alone, as after a crash that lost
	// the inject's record: the capacity resolved on the member is restored.
	again := &targets.Injection{RunID: "r-ddb", Attack: "starve", Kind: "dynamodb-capacity", Member: orders, Duration: time.Minute, Params: map[string]string{"keep": "10"}}
	preflightInject(ctx, t, e, again)
	wantCapacity(t, srv, "orders", 10, 4, "after the second inject")
	lost := *again
	lost.State = nil
	if _, err := fresh.Rollback(ctx, lost); err != nil {
		t.Fatalf("rollback without the inject's record: %v", err)
	}
	wantCapacity(t, srv, "orders", 100, 40, "after the rollback without the inject's record")
	wantCalls(t, srv, "dynamodb:UpdateTable", 4, "two injects and two rollbacks")
	waitFor(t, "orders to be ACTIVE after the second rollback", tableActive(srv, "orders"))

	rollbackSparesOthersChange(t, e, fresh, srv, orders)
}

// resolveCheckoutTables resolves the tables tagged checkout, failing the
// test unless they are orders, as seeded, and sessions; and checks that
// naming a table without the tags is refused.
func resolveCheckoutTables(t *testing.T, e *Executor) (orders, sessions targets.Member) {
	t.Helper()
	ctx := context.Background()
	members, err := e.Resolve(ctx, checkoutTarget("tables", "dynamodb:table"))
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 2 || members[0].ID != "orders" || members[1].ID != "sessions" {
		t.Fatalf("resolved %+v, want orders and sessions", members)
	}
	// A table named by id that lacks the target's tags is an error, not a
	// smaller target.
	named := checkoutTarget("tables", "dynamodb:table")
	named.AWS.IDs = []string{"orders", "search"}
	if _, err := e.Resolve(ctx, named); err == nil || !strings.Contains(err.Error(), "dynamodb table search does not carry the target's tags") {
		t.Errorf("named table without the tags: %v", err)
	}
	orders, sessions = members[0], members[1]
	wantARN := "arn:aws:dynamodb:us-east-1:" + labAccount + ":table/orders"
	if orders.Addr != wantARN || orders.Labels[LabelRead] != "100" || orders.Labels[LabelWrite] != "40" ||
		orders.Labels[LabelState] != "ACTIVE" || orders.Labels["tag:service"] != "checkout" || orders.Labels[LabelAccount] != labAccount {
		t.Errorf("orders resolved as %s %v, want %s with capacity 100/40", orders.Addr, orders.Labels, wantARN)
	}
	return orders, sessions
}

// rollbackSparesOthersChange: explicit units instead of keep's share; then
// someone else raises the capacity while the attack runs, and the rollback
// leaves their change.
func rollbackSparesOthersChange(t *testing.T, e, fresh *Executor, srv *labaws.Server, orders targets.Member) {
	ctx := context.Background()
	cut := &targets.Injection{RunID: "r-ddb2", Attack: "starve", Kind: "dynamodb-capacity", Member: orders, Duration: time.Minute,
		Params: map[string]string{"read": "3", "write": "2"}}
	preflightInject(ctx, t, e, cut)
	wantCapacity(t, srv, "orders", 3, 2, "after inject with read 3, write 2")
	waitFor(t, "orders to be ACTIVE after the inject", tableActive(srv, "orders"))
	other, err := fresh.memberSession(ctx, orders)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Dynamo.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: sdkaws.String("orders"),
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: sdkaws.Int64(50), WriteCapacityUnits: sdkaws.Int64(20)}}); err != nil {
		t.Fatal(err)
	}
	updates := srv.Calls("dynamodb:UpdateTable")
	_, err = e.Rollback(ctx, *cut)
	for _, want := range []string{"orders", "now has read 50, write 20", "the attack set read 3, write 2", "had read 100, write 40 before", "someone changed it"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("rollback over someone else's change: %v, want it to say %q", err, want)
		}
	}
	wantCapacity(t, srv, "orders", 50, 20, "after the refused rollback")
	wantCalls(t, srv, "dynamodb:UpdateTable", updates, "the refused rollback")
}

// A cut that would not reduce anything is refused at preflight, and the
// refusal says what the table has and what would be set.
func TestLabDynamoDBCapacityNothingToCut(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	if err := srv.AddTable(labaws.Table{Name: "tiny", Read: 1, Write: 1}); err != nil {
		t.Fatal(err)
	}
	e := labExecutor(t, srv, "AKIDGAMEDAY")
	ctx := context.Background()
	members, err := e.Resolve(ctx, runbook.Target{Name: "tables", AWS: &runbook.AWSTarget{Resource: "dynamodb:table", IDs: []string{"tiny"}, Accounts: []string{labAccount}}})
	if err != nil || len(members) != 1 {
		t.Fatalf("resolved %+v: %v", members, err)
	}
	err = e.Preflight(ctx, targets.Injection{RunID: "r", Attack: "starve", Kind: "dynamodb-capacity", Member: members[0], Duration: time.Minute, Params: map[string]string{"keep": "50"}})
	if err == nil || !strings.Contains(err.Error(), "table tiny has read 1, write 1") || !strings.Contains(err.Error(), "reduces nothing") {
		t.Errorf("preflight of a table at one unit: %v", err)
	}
	wantCalls(t, srv, "dynamodb:UpdateTable", 0, "preflight")
}

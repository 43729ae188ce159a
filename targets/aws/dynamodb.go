package aws

import (
	"context"
	"fmt"
	"math"
	"strconv"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// Labels of a table: its provisioned capacity when resolved, the fallback
// a rollback restores when the inject's own record was lost.
const (
	LabelRead  = "read_capacity"
	LabelWrite = "write_capacity"
)

type capacity struct{ read, write int64 }

func (c capacity) String() string { return fmt.Sprintf("read %d, write %d", c.read, c.write) }

type table struct {
	status      ddbtypes.TableStatus
	provisioned bool
	capacity
}

func describeTable(ctx context.Context, s *session, name string) (table, error) {
	out, err := s.Dynamo.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: sdkaws.String(name)})
	if err != nil {
		return table{}, fmt.Errorf("dynamodb DescribeTable %s: %w", name, explain(err))
	}
	t := out.Table
	if t == nil {
		return table{}, fmt.Errorf("dynamodb DescribeTable %s returned no table", name)
	}
	tb := table{status: t.TableStatus, provisioned: t.BillingModeSummary == nil || t.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest}
	if p := t.ProvisionedThroughput; p != nil {
		tb.read, tb.write = sdkaws.ToInt64(p.ReadCapacityUnits), sdkaws.ToInt64(p.WriteCapacityUnits)
	}
	return tb, nil
}

func (e *Executor) resolveTables(ctx context.Context, s *session, t runbook.Target) ([]targets.Member, error) {
	a := t.AWS
	names, err := namedOrAll(a, "dynamodb:table", func() ([]string, error) {
		p := dynamodb.NewListTablesPaginator(s.Dynamo, &dynamodb.ListTablesInput{})
		return allPages(ctx, p.HasMorePages, p.NextPage, "dynamodb ListTables", func(o *dynamodb.ListTablesOutput) []string { return o.TableNames })
	})
	if err != nil {
		return nil, err
	}
	var out []targets.Member
	for _, name := range names {
		d, err := s.Dynamo.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: sdkaws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("dynamodb table %s: %w", name, explain(err))
		}
		arn := sdkaws.ToString(d.Table.TableArn)
		l := map[string]string{LabelARN: arn}
		if len(a.Tags) > 0 {
			tags := map[string]string{}
			in := &dynamodb.ListTagsOfResourceInput{ResourceArn: sdkaws.String(arn)}
			for pages := 0; ; pages++ {
				page, err := s.Dynamo.ListTagsOfResource(ctx, in)
				if err != nil {
					return nil, fmt.Errorf("dynamodb table %s: ListTagsOfResource: %w", name, explain(err))
				}
				for _, tag := range page.Tags {
					tags[sdkaws.ToString(tag.Key)] = sdkaws.ToString(tag.Value)
				}
				if page.NextToken == nil || pages >= 100 {
					break
				}
				in.NextToken = page.NextToken
			}
			if keep, err := keepTagged(a, "dynamodb table "+name, tags, l); !keep {
				if err != nil {
					return nil, err
				}
				continue
			}
		}
		if p := d.Table.ProvisionedThroughput; p != nil {
			l[LabelRead] = strconv.FormatInt(sdkaws.ToInt64(p.ReadCapacityUnits), 10)
			l[LabelWrite] = strconv.FormatInt(sdkaws.ToInt64(p.WriteCapacityUnits), 10)
		}
		l[LabelState] = string(d.Table.TableStatus)
		out = append(out, targets.Member{ID: name, Addr: arn, Labels: l})
	}
	return out, nil
}

// reduced is the capacity the attack sets: read and write when given,
// else keep's share of the current capacity, at least one unit.
func (e *Executor) reduced(inj targets.Injection, cur capacity) (capacity, error) {
	v, err := e.parse(inj)
	if err != nil {
		return capacity{}, err
	}
	keep := v.Ratio("keep")
	share := func(n int64) int64 { return max(1, int64(math.Floor(float64(n)*keep))) }
	out := capacity{share(cur.read), share(cur.write)}
	if v.Has("read") {
		out.read = v.Int("read")
	}
	if v.Has("write") {
		out.write = v.Int("write")
	}
	return out, nil
}

// checkTable refuses what UpdateTable would refuse or what would not be an
// attack: on-demand tables, tables not active, capacity not reduced.
func (e *Executor) checkTable(ctx context.Context, s *session, inj targets.Injection) (table, capacity, error) {
	tb, err := describeTable(ctx, s, inj.Member.ID)
	if err != nil {
		return tb, capacity{}, err
	}
	if !tb.provisioned {
		return tb, capacity{}, fmt.Errorf("table %s is on-demand (PAY_PER_REQUEST): it has no provisioned capacity to reduce", inj.Member.ID)
	}
	if tb.status != ddbtypes.TableStatusActive {
		return tb, capacity{}, fmt.Errorf("table %s is %s, not ACTIVE", inj.Member.ID, tb.status)
	}
	want, err := e.reduced(inj, tb.capacity)
	if err != nil {
		return tb, want, err
	}
	if want.read >= tb.read && want.write >= tb.write {
		return tb, want, fmt.Errorf("table %s has %s; the attack would set %s, which reduces nothing", inj.Member.ID, tb.capacity, want)
	}
	return tb, want, nil
}

func (e *Executor) updateCapacity(ctx context.Context, s *session, name string, c capacity) error {
	e.opts.Logf("aws %s: dynamodb UpdateTable %s", name, c)
	var tries int
	_, err := s.Dynamo.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: sdkaws.String(name),
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: sdkaws.Int64(c.read), WriteCapacityUnits: sdkaws.Int64(c.write)}},
		func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, attempts(&tries)) })
	if code := apiCode(err); tries > 1 && (code == "ResourceInUseException" || code == "ValidationException") {
		// An attempt whose answer was lost may have made the change: the
		// retry then finds the table updating, or already at c.
		if tb, derr := describeTable(ctx, s, name); derr == nil && tb.read == c.read && tb.write == c.write {
			e.opts.Logf("aws %s: dynamodb UpdateTable: an earlier attempt set %s; its answer was lost", name, c)
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("dynamodb UpdateTable: %w", explain(err))
	}
	return nil
}

func parseCapacity(read, write string) (capacity, bool) {
	r, err1 := strconv.ParseInt(read, 10, 64)
	w, err2 := strconv.ParseInt(write, 10, 64)
	return capacity{r, w}, err1 == nil && err2 == nil
}

var dynamoCapacity = attack{
	plan: func(e *Executor, inj targets.Injection) []string {
		return []string{
			"preflight: dynamodb DescribeTable --table-name " + inj.Member.ID + " (provisioned, ACTIVE)",
			"inject: dynamodb DescribeTable (capacity recorded), UpdateTable --provisioned-throughput (keep " + inj.Params["keep"] + ")",
			"rollback: dynamodb DescribeTable until ACTIVE, UpdateTable --provisioned-throughput back to the recorded capacity",
		}
	},
	preflight: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error {
		_, _, err := e.checkTable(ctx, s, inj)
		return err
	},
	inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
		tb, want, err := e.checkTable(ctx, s, *inj)
		if err != nil {
			return targets.Result{}, err
		}
		inj.State["previous_read"] = strconv.FormatInt(tb.read, 10)
		inj.State["previous_write"] = strconv.FormatInt(tb.write, 10)
		inj.State["read"] = strconv.FormatInt(want.read, 10)
		inj.State["write"] = strconv.FormatInt(want.write, 10)
		if err := e.updateCapacity(ctx, s, inj.Member.ID, want); err != nil {
			return targets.Result{}, err
		}
		return targets.Result{Output: fmt.Sprintf("table %s: %s -> %s", inj.Member.ID, tb.capacity, want)}, nil
	},
	rollback: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
		prev, ok := parseCapacity(inj.State["previous_read"], inj.State["previous_write"])
		if !ok {
			prev, ok = parseCapacity(inj.Member.Labels[LabelRead], inj.Member.Labels[LabelWrite])
		}
		if !ok {
			return targets.Result{}, fmt.Errorf("the table's capacity before the attack was not recorded; set it by hand")
		}
		ctx, cancel := e.bound(ctx)
		defer cancel()
		for {
			tb, err := describeTable(ctx, s, inj.Member.ID)
			if err != nil {
				return targets.Result{}, err
			}
			switch {
			case tb.capacity == prev:
				return targets.Result{Output: fmt.Sprintf("table %s has %s as before", inj.Member.ID, prev)}, nil
			case tb.status == ddbtypes.TableStatusActive:
				// What the attack set, known exactly or worked out again
				// from the capacity before it.
				set, ok := parseCapacity(inj.State["read"], inj.State["write"])
				if !ok {
					set, err = e.reduced(inj, prev)
					if err != nil {
						return targets.Result{}, err
					}
				}
				if tb.capacity != set {
					return targets.Result{}, fmt.Errorf("table %s now has %s, but the attack set %s and it had %s before: someone changed it since, so it is left alone; restore %s by hand if that is right",
						inj.Member.ID, tb.capacity, set, prev, prev)
				}
				if err := e.updateCapacity(ctx, s, inj.Member.ID, prev); err != nil {
					return targets.Result{}, err
				}
				return targets.Result{Output: fmt.Sprintf("table %s: %s -> %s", inj.Member.ID, tb.capacity, prev)}, nil
			}
			// UPDATING: the inject's change is still being applied.
			if !e.sleep(ctx) {
				return targets.Result{}, fmt.Errorf("table %s is still %s: %w", inj.Member.ID, tb.status, ctx.Err())
			}
		}
	},
}

package aws

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// maxDecreasesPerDay is how many provisioned-throughput decreases DynamoDB
// allows a table in a UTC day before it starts refusing them (it then allows
// one an hour; the endpoint refuses them all, the stricter reading).
const maxDecreasesPerDay = 4

// Table is a DynamoDB table as seeded and as read back.
type Table struct {
	Name string // required
	// OnDemand is PAY_PER_REQUEST billing: no provisioned capacity to change.
	OnDemand    bool
	Read, Write int64 // provisioned capacity units; default 5 each
	Indexes     []TableIndex
	Tags        map[string]string
	// Read back only.
	Status         string
	DecreasesToday int
}

// TableIndex is a global secondary index and its provisioned capacity.
type TableIndex struct {
	Name        string
	Read, Write int64
}

type table struct {
	Table
	created  time.Time
	day      string // UTC day DecreasesToday counts
	gen      int
	lastDown time.Time
	lastUp   time.Time
}

// AddTable seeds a DynamoDB table.
func (s *Server) AddTable(t Table) error {
	if t.Name == "" {
		return fmt.Errorf("lab/aws: DynamoDB table without a name")
	}
	if !t.OnDemand && t.Read == 0 && t.Write == 0 {
		t.Read, t.Write = 5, 5
	}
	t.Indexes = append([]TableIndex(nil), t.Indexes...)
	t.Tags = copyTags(t.Tags)
	t.Status = "ACTIVE"
	return seed(s, s.tables, "table", t.Name, &table{Table: t, created: s.opts.Now()}, nil)
}

// Table returns a copy of a table's current state.
func (s *Server) Table(name string) (Table, bool) {
	return readBack(s, s.tables, name, func(t *table) Table {
		out := t.Table
		out.Indexes = append([]TableIndex(nil), t.Indexes...)
		out.Tags = copyTags(t.Tags)
		return out
	})
}

func (s *Server) serveDynamoDB(w http.ResponseWriter, c *call) {
	s.serveTarget(w, c, "DynamoDB_20120810.", map[string]func(*call) (any, *apiError){
		"ListTables":         s.listTables,
		"DescribeTable":      s.describeTable,
		"ListTagsOfResource": s.listTagsOfResource,
		"UpdateTable":        s.updateTable,
	})
}

func ddbError(code, msg string) *apiError { return &apiError{status: 400, code: code, msg: msg} }

func (s *Server) tableARN(name string) string {
	return s.arn("dynamodb", "table/"+name)
}

// withTable runs fn with the table ref names, under the lock.
func (s *Server) withTable(ref string, fn func(*table) (any, *apiError)) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, aerr := s.findTable(ref)
	if aerr != nil {
		return nil, aerr
	}
	return fn(t)
}

// findTable resolves a table name or ARN. Callers hold s.mu.
func (s *Server) findTable(ref string) (*table, *apiError) {
	name := ref[strings.LastIndex(ref, "/")+1:]
	t, ok := s.tables[name]
	if !ok || (strings.HasPrefix(ref, "arn:") && ref != s.tableARN(name)) {
		return nil, ddbError("ResourceNotFoundException", fmt.Sprintf("Requested resource not found: Table: %s not found", ref))
	}
	return t, nil
}

func (s *Server) listTables(c *call) (any, *apiError) {
	var in struct {
		ExclusiveStartTableName string
		Limit                   *int
	}
	if aerr := decodeJSON(c.body, &in); aerr != nil {
		return nil, aerr
	}
	limit := 100
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 100 {
			return nil, ddbError("ValidationException", fmt.Sprintf("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", *in.Limit))
		}
		limit = *in.Limit
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.tables))
	for name := range s.tables {
		if name > in.ExclusiveStartTableName {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	out := map[string]any{}
	if len(names) > limit {
		names = names[:limit]
		out["LastEvaluatedTableName"] = names[limit-1]
	}
	out["TableNames"] = names
	return out, nil
}

func throughput(r, w int64, t *table) map[string]any {
	out := map[string]any{"ReadCapacityUnits": r, "WriteCapacityUnits": w, "NumberOfDecreasesToday": t.DecreasesToday}
	if !t.lastDown.IsZero() {
		out["LastDecreaseDateTime"] = epoch(t.lastDown)
	}
	if !t.lastUp.IsZero() {
		out["LastIncreaseDateTime"] = epoch(t.lastUp)
	}
	return out
}

// tableJSON is the TableDescription shape. Callers hold s.mu.
func (s *Server) tableJSON(t *table) map[string]any {
	mode := "PROVISIONED"
	if t.OnDemand {
		mode = "PAY_PER_REQUEST"
	}
	out := map[string]any{
		"TableName": t.Name, "TableArn": s.tableARN(t.Name), "TableStatus": t.Status,
		"CreationDateTime": epoch(t.created), "ItemCount": 0, "TableSizeBytes": 0,
		"BillingModeSummary":    map[string]string{"BillingMode": mode},
		"KeySchema":             []map[string]string{{"AttributeName": "pk", "KeyType": "HASH"}},
		"AttributeDefinitions":  []map[string]string{{"AttributeName": "pk", "AttributeType": "S"}},
		"ProvisionedThroughput": throughput(t.Read, t.Write, t),
	}
	if len(t.Indexes) > 0 {
		var gsis []map[string]any
		for _, ix := range t.Indexes {
			gsis = append(gsis, map[string]any{
				"IndexName": ix.Name, "IndexArn": s.tableARN(t.Name) + "/index/" + ix.Name, "IndexStatus": t.Status,
				"KeySchema":  []map[string]string{{"AttributeName": "pk", "KeyType": "HASH"}},
				"Projection": map[string]string{"ProjectionType": "ALL"}, "ProvisionedThroughput": throughput(ix.Read, ix.Write, t),
			})
		}
		out["GlobalSecondaryIndexes"] = gsis
	}
	return out
}

func (s *Server) describeTable(c *call) (any, *apiError) {
	var in struct{ TableName string }
	if aerr := decodeJSON(c.body, &in); aerr != nil {
		return nil, aerr
	}
	return s.withTable(in.TableName, func(t *table) (any, *apiError) {
		return map[string]any{"Table": s.tableJSON(t)}, nil
	})
}

func (s *Server) listTagsOfResource(c *call) (any, *apiError) {
	var in struct{ ResourceArn string }
	if aerr := decodeJSON(c.body, &in); aerr != nil {
		return nil, aerr
	}
	if !strings.HasPrefix(in.ResourceArn, "arn:") {
		return nil, ddbError("ValidationException", fmt.Sprintf("Invalid TableArn: %q is not a table ARN", in.ResourceArn))
	}
	return s.withTable(in.ResourceArn, func(t *table) (any, *apiError) {
		tags := []map[string]string{}
		for _, tg := range tagsXML(t.Tags) {
			tags = append(tags, map[string]string{"Key": tg.Key, "Value": tg.Value})
		}
		return map[string]any{"Tags": tags}, nil
	})
}

type capacity struct {
	ReadCapacityUnits, WriteCapacityUnits int64
}

// updateTableInput is UpdateTable's request, as far as capacity goes.
type updateTableInput struct {
	TableName                   string
	ProvisionedThroughput       *capacity
	GlobalSecondaryIndexUpdates []struct {
		Update *struct {
			IndexName             string
			ProvisionedThroughput capacity
		}
	}
}

// capacityChange is one table's or index's new capacity.
type capacityChange struct {
	read, write *int64
	to          capacity
}

// updateTable changes provisioned capacity of the table and its indexes.
// The table is UPDATING for the transition delay; DynamoDB's limits apply:
// no change while updating, no change to the same values, no capacity on an
// on-demand table, and at most maxDecreasesPerDay decreases a UTC day.
func (s *Server) updateTable(c *call) (any, *apiError) {
	var in updateTableInput
	if aerr := decodeJSON(c.body, &in); aerr != nil {
		return nil, aerr
	}
	return s.withTable(in.TableName, func(t *table) (any, *apiError) {
		if t.Status != "ACTIVE" {
			return nil, ddbError("ResourceInUseException", fmt.Sprintf("Attempt to change a resource which is still in use: Table is being updated: %s", t.Name))
		}
		if t.OnDemand && (in.ProvisionedThroughput != nil || len(in.GlobalSecondaryIndexUpdates) > 0) {
			return nil, ddbError("ValidationException", "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
		changes, aerr := t.capacityChanges(&in)
		if aerr != nil {
			return nil, aerr
		}
		decrease, increase, aerr := checkCapacityChanges(changes)
		if aerr != nil {
			return nil, aerr
		}
		if aerr := s.changeCapacity(t, changes, decrease, increase); aerr != nil {
			return nil, aerr
		}
		return map[string]any{"TableDescription": s.tableJSON(t)}, nil
	})
}

// capacityChanges finds what the request changes: the table's capacity and
// its indexes'.
func (t *table) capacityChanges(in *updateTableInput) ([]capacityChange, *apiError) {
	var changes []capacityChange
	if p := in.ProvisionedThroughput; p != nil {
		changes = append(changes, capacityChange{&t.Read, &t.Write, *p})
	}
	for _, u := range in.GlobalSecondaryIndexUpdates {
		if u.Update == nil {
			return nil, ddbError("ValidationException", "only Update entries of GlobalSecondaryIndexUpdates are served here")
		}
		found := false
		for i := range t.Indexes {
			if ix := &t.Indexes[i]; ix.Name == u.Update.IndexName {
				changes = append(changes, capacityChange{&ix.Read, &ix.Write, u.Update.ProvisionedThroughput})
				found = true
			}
		}
		if !found {
			return nil, ddbError("ResourceNotFoundException", fmt.Sprintf("Requested resource not found: Index: %s not found on table %s", u.Update.IndexName, t.Name))
		}
	}
	if len(changes) == 0 {
		return nil, ddbError("ValidationException", "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required")
	}
	return changes, nil
}

// checkCapacityChanges refuses a capacity below 1 or one that does not
// change, and says whether any unit goes down or up.
func checkCapacityChanges(changes []capacityChange) (decrease, increase bool, aerr *apiError) {
	for _, ch := range changes {
		if ch.to.ReadCapacityUnits < 1 || ch.to.WriteCapacityUnits < 1 {
			return false, false, ddbError("ValidationException", "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be at least 1")
		}
		if ch.to.ReadCapacityUnits == *ch.read && ch.to.WriteCapacityUnits == *ch.write {
			return false, false, ddbError("ValidationException", "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: "+fmt.Sprint(*ch.read)+". Requested ReadCapacityUnits: "+fmt.Sprint(ch.to.ReadCapacityUnits)+".")
		}
		decrease = decrease || ch.to.ReadCapacityUnits < *ch.read || ch.to.WriteCapacityUnits < *ch.write
		increase = increase || ch.to.ReadCapacityUnits > *ch.read || ch.to.WriteCapacityUnits > *ch.write
	}
	return decrease, increase, nil
}

// changeCapacity applies checked changes within the daily limit on
// decreases and keeps the table UPDATING for the transition delay. Callers
// hold s.mu.
func (s *Server) changeCapacity(t *table, changes []capacityChange, decrease, increase bool) *apiError {
	now := s.opts.Now()
	if day := now.UTC().Format("2006-01-02"); t.day != day {
		t.day, t.DecreasesToday = day, 0
	}
	if decrease && t.DecreasesToday >= maxDecreasesPerDay {
		return ddbError("LimitExceededException", fmt.Sprintf("Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day. Table %s has had %d decreases today.", t.Name, t.DecreasesToday))
	}
	for _, ch := range changes {
		*ch.read, *ch.write = ch.to.ReadCapacityUnits, ch.to.WriteCapacityUnits
	}
	if decrease {
		t.DecreasesToday++
		t.lastDown = now
	}
	if increase {
		t.lastUp = now
	}
	t.Status = "UPDATING"
	t.gen++
	gen := t.gen
	time.AfterFunc(s.opts.TransitionDelay, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if t.gen == gen {
			t.Status = "ACTIVE"
		}
	})
	return nil
}

package aws

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DBCluster is an Aurora cluster. Its members are the DBInstances added
// with its ID as their Cluster.
type DBCluster struct {
	ID     string // required
	Engine string // default aurora-postgresql
	Status string // default available
	// Writer is the member that takes writes; default the first member
	// added. A failover moves it to a reader.
	Writer string
	Tags   map[string]string
}

// DBInstance is an RDS DB instance, alone (Multi-AZ or not) or a cluster member.
type DBInstance struct {
	ID          string // required
	Cluster     string
	Engine      string // default the cluster's, else postgres
	Class       string // default db.r6g.large
	AZ          string // default the region's "a" zone
	SecondaryAZ string // Multi-AZ standby zone; default the "b" zone when MultiAZ
	MultiAZ     bool
	Status      string // default available
	Tags        map[string]string
}

type dbCluster struct {
	DBCluster
	created time.Time
	gen     int
}

type dbInstance struct {
	DBInstance
	created time.Time
	gen     int
}

// AddDBCluster seeds an Aurora cluster; add its instances after it.
func (s *Server) AddDBCluster(c DBCluster) error {
	if c.ID == "" {
		return fmt.Errorf("lab/aws: DB cluster without an ID")
	}
	if c.Engine == "" {
		c.Engine = "aurora-postgresql"
	}
	if c.Status == "" {
		c.Status = "available"
	}
	c.Tags = copyTags(c.Tags)
	return seed(s, s.dbClusters, "DB cluster", c.ID, &dbCluster{DBCluster: c, created: s.opts.Now()}, nil)
}

// AddDBInstance seeds a DB instance, joining its Cluster if it names one.
func (s *Server) AddDBInstance(in DBInstance) error {
	if in.ID == "" {
		return fmt.Errorf("lab/aws: DB instance without an ID")
	}
	if in.Class == "" {
		in.Class = "db.r6g.large"
	}
	if in.AZ == "" {
		in.AZ = s.opts.Region + "a"
	}
	if in.MultiAZ && in.SecondaryAZ == "" {
		in.SecondaryAZ = s.opts.Region + "b"
	}
	if in.Status == "" {
		in.Status = "available"
	}
	in.Tags = copyTags(in.Tags)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.dbInstances[in.ID]; ok {
		return fmt.Errorf("lab/aws: DB instance %s already exists", in.ID)
	}
	if in.Cluster != "" {
		c, ok := s.dbClusters[in.Cluster]
		if !ok {
			return fmt.Errorf("lab/aws: DB instance %s: cluster %s does not exist (add it first)", in.ID, in.Cluster)
		}
		if in.Engine == "" {
			in.Engine = c.Engine
		}
		if c.Writer == "" {
			c.Writer = in.ID
		}
	}
	if in.Engine == "" {
		in.Engine = "postgres"
	}
	s.dbInstances[in.ID] = &dbInstance{DBInstance: in, created: s.opts.Now()}
	return nil
}

// DBCluster returns a copy of a cluster's current state.
func (s *Server) DBCluster(id string) (DBCluster, bool) {
	return readBack(s, s.dbClusters, id, func(c *dbCluster) DBCluster {
		out := c.DBCluster
		out.Tags = copyTags(c.Tags)
		return out
	})
}

// DBInstance returns a copy of a DB instance's current state.
func (s *Server) DBInstance(id string) (DBInstance, bool) {
	return readBack(s, s.dbInstances, id, func(in *dbInstance) DBInstance {
		out := in.DBInstance
		out.Tags = copyTags(in.Tags)
		return out
	})
}

// rdsAPI is the RDS actions served.
func (s *Server) rdsAPI() queryAPI {
	return queryAPI{unknown: "Could not find operation %s for version 2014-10-31", actions: map[string]queryHandler{
		"DescribeDBClusters":  formOnly(s.describeDBClusters),
		"DescribeDBInstances": formOnly(s.describeDBInstances),
		"FailoverDBCluster":   formOnly(s.failoverDBCluster),
		"RebootDBInstance":    formOnly(s.rebootDBInstance),
	}}
}

type rdsTagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func rdsTags(m map[string]string) []rdsTagXML {
	out := make([]rdsTagXML, 0, len(m))
	for _, t := range tagsXML(m) {
		out = append(out, rdsTagXML(t))
	}
	return out
}

type dbClusterMemberXML struct {
	ID       string `xml:"DBInstanceIdentifier"`
	Writer   bool   `xml:"IsClusterWriter"`
	Tier     int    `xml:"PromotionTier"`
	ParamGrp string `xml:"DBClusterParameterGroupStatus"`
}

type dbClusterXML struct {
	XMLName  xml.Name             `xml:"DBCluster"`
	ID       string               `xml:"DBClusterIdentifier"`
	ARN      string               `xml:"DBClusterArn"`
	Status   string               `xml:"Status"`
	Engine   string               `xml:"Engine"`
	Endpoint string               `xml:"Endpoint"`
	Reader   string               `xml:"ReaderEndpoint"`
	Port     int                  `xml:"Port"`
	MultiAZ  bool                 `xml:"MultiAZ"`
	AZs      []string             `xml:"AvailabilityZones>AvailabilityZone"`
	Members  []dbClusterMemberXML `xml:"DBClusterMembers>DBClusterMember"`
	Tags     []rdsTagXML          `xml:"TagList>Tag"`
	Created  string               `xml:"ClusterCreateTime"`
}

type dbInstanceXML struct {
	XMLName     xml.Name    `xml:"DBInstance"`
	ID          string      `xml:"DBInstanceIdentifier"`
	ARN         string      `xml:"DBInstanceArn"`
	Class       string      `xml:"DBInstanceClass"`
	Engine      string      `xml:"Engine"`
	Status      string      `xml:"DBInstanceStatus"`
	AZ          string      `xml:"AvailabilityZone"`
	SecondaryAZ string      `xml:"SecondaryAvailabilityZone,omitempty"`
	MultiAZ     bool        `xml:"MultiAZ"`
	Cluster     string      `xml:"DBClusterIdentifier,omitempty"`
	Address     string      `xml:"Endpoint>Address"`
	Port        int         `xml:"Endpoint>Port"`
	Tags        []rdsTagXML `xml:"TagList>Tag"`
	Created     string      `xml:"InstanceCreateTime"`
}

func (s *Server) rdsARN(kind, id string) string {
	return s.arn("rds", kind+":"+id)
}

// members lists a cluster's instances, sorted. Callers hold s.mu.
func (s *Server) members(id string) []*dbInstance {
	var out []*dbInstance
	for _, in := range s.dbInstances {
		if in.Cluster == id {
			out = append(out, in)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// clusterXML is the DBCluster shape. Callers hold s.mu.
func (s *Server) clusterXML(cl *dbCluster) dbClusterXML {
	out := dbClusterXML{
		ID: cl.ID, ARN: s.rdsARN("cluster", cl.ID), Status: cl.Status, Engine: cl.Engine, Port: 5432,
		Endpoint: cl.ID + ".cluster.lab.invalid", Reader: cl.ID + ".cluster-ro.lab.invalid",
		Tags: rdsTags(cl.Tags), Created: isoTime(cl.created),
	}
	azs := map[string]bool{}
	for i, m := range s.members(cl.ID) {
		out.Members = append(out.Members, dbClusterMemberXML{ID: m.ID, Writer: m.ID == cl.Writer, Tier: i + 1, ParamGrp: "in-sync"})
		azs[m.AZ] = true
	}
	for az := range azs {
		out.AZs = append(out.AZs, az)
	}
	sort.Strings(out.AZs)
	out.MultiAZ = len(out.AZs) > 1
	return out
}

func (s *Server) dbInstanceXML(in *dbInstance) dbInstanceXML {
	return dbInstanceXML{
		ID: in.ID, ARN: s.rdsARN("db", in.ID), Class: in.Class, Engine: in.Engine, Status: in.Status,
		AZ: in.AZ, SecondaryAZ: in.SecondaryAZ, MultiAZ: in.MultiAZ, Cluster: in.Cluster,
		Address: in.ID + ".lab.invalid", Port: 5432, Tags: rdsTags(in.Tags), Created: isoTime(in.created),
	}
}

// rdsFilters reads Filters.Filter.N.Name / Filters.Filter.N.Values.Value.M.
func rdsFilters(form url.Values, known ...string) ([]filter, *apiError) {
	var out []filter
	for _, i := range members(form, "Filters.Filter") {
		p := "Filters.Filter." + strconv.Itoa(i)
		f := filter{name: form.Get(p + ".Name"), values: indexed(form, p+".Values.Value")}
		ok := false
		for _, k := range known {
			ok = ok || f.name == k
		}
		if !ok {
			return nil, &apiError{status: 400, code: "InvalidParameterValue", msg: fmt.Sprintf("Unrecognized filter name: %s (expected one of %s)", f.name, strings.Join(known, ", "))}
		}
		out = append(out, f)
	}
	return out, nil
}

// rdsPaging: MaxRecords 20 to 100, default 100, and Marker.
var rdsPaging = paging{100, 20, 100, "InvalidParameterValue", "MaxRecords %s: expected 20 to 100", "InvalidParameterValue", "Marker is not valid"}

// lastSegment is an identifier given as itself or as an ARN.
func lastSegment(v string) string {
	return v[strings.LastIndex(v, ":")+1:]
}

// rdsMatch applies RDS filters, whose values are identifiers or ARNs.
func rdsMatch(filters []filter, fields map[string]string) bool {
	for _, f := range filters {
		hit := false
		for _, v := range f.values {
			hit = hit || lastSegment(v) == fields[f.name]
		}
		if !hit {
			return false
		}
	}
	return true
}

func (s *Server) describeDBClusters(c *call, form url.Values) (any, *apiError) {
	return rdsDescribe(s, c, form, "DBCluster", s.dbClusters, []string{"db-cluster-id", "engine"},
		func(cl *dbCluster) map[string]string {
			return map[string]string{"db-cluster-id": cl.ID, "engine": cl.Engine}
		},
		func(cl *dbCluster) any { return s.clusterXML(cl) })
}

func (s *Server) describeDBInstances(c *call, form url.Values) (any, *apiError) {
	return rdsDescribe(s, c, form, "DBInstance", s.dbInstances, []string{"db-instance-id", "db-cluster-id", "engine"},
		func(in *dbInstance) map[string]string {
			return map[string]string{"db-instance-id": in.ID, "db-cluster-id": in.Cluster, "engine": in.Engine}
		},
		func(in *dbInstance) any { return s.dbInstanceXML(in) })
}

// rdsDescribe answers DescribeDBClusters and DescribeDBInstances: kind is
// DBCluster or DBInstance, which also names the identifier parameter, the
// list and the not-found error.
func rdsDescribe[T any](s *Server, c *call, form url.Values, kind string, all map[string]T, known []string, fields func(T) map[string]string, toXML func(T) any) (any, *apiError) {
	filters, aerr := rdsFilters(form, known...)
	if aerr != nil {
		return nil, aerr
	}
	size, offset, aerr := rdsPaging.read(form.Get("MaxRecords"), form.Get("Marker"))
	if aerr != nil {
		return nil, aerr
	}
	id := lastSegment(form.Get(kind + "Identifier"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := all[id]; id != "" && !ok {
		return nil, rdsNotFound(kind, id)
	}
	var ids []string
	for key, item := range all {
		if (id == "" || key == id) && rdsMatch(filters, fields(item)) {
			ids = append(ids, key)
		}
	}
	sort.Strings(ids)
	from, to, next := page(len(ids), offset, size)
	items := make([]any, 0, to-from)
	for _, key := range ids[from:to] {
		items = append(items, toXML(all[key]))
	}
	type list struct {
		XMLName xml.Name
		Items   []any
	}
	return queryAnswer(c, "Describe"+kind+"s", struct {
		XMLName xml.Name
		List    list
		Marker  string `xml:"Marker,omitempty"`
	}{resultName("Describe" + kind + "s"), list{xml.Name{Local: kind + "s"}, items}, next}), nil
}

func rdsNotFound(kind, id string) *apiError {
	code := "DBClusterNotFoundFault"
	if kind == "DBInstance" {
		code = "DBInstanceNotFound"
	}
	return &apiError{status: 404, code: code, msg: fmt.Sprintf("%s %s not found.", kind, id)}
}

// failoverDBCluster promotes a reader (the one named, or the first) to
// writer: the cluster is failing-over for the transition delay. A cluster
// without readers restarts its writer in place, as Aurora does.
func (s *Server) failoverDBCluster(c *call, form url.Values) (any, *apiError) {
	id := lastSegment(form.Get("DBClusterIdentifier"))
	target := lastSegment(form.Get("TargetDBInstanceIdentifier"))
	s.mu.Lock()
	defer s.mu.Unlock()
	cl, ok := s.dbClusters[id]
	if !ok {
		return nil, rdsNotFound("DBCluster", id)
	}
	if cl.Status != "available" {
		return nil, &apiError{status: 400, code: "InvalidDBClusterStateFault", msg: fmt.Sprintf("DBCluster %s is %s, not available.", id, cl.Status)}
	}
	next := cl.Writer
	for _, m := range s.members(id) {
		if m.ID != cl.Writer && (target == "" || m.ID == target) && m.Status == "available" {
			next = m.ID
			break
		}
	}
	if target != "" && next != target {
		return nil, &apiError{status: 400, code: "InvalidDBInstanceState", msg: fmt.Sprintf("TargetDBInstanceIdentifier %s is not an available reader of DBCluster %s", target, id)}
	}
	cl.Status = "failing-over"
	cl.gen++
	s.changeHook("rds", id, cl.Status)
	s.unlessChanged(s.opts.TransitionDelay, &cl.gen, func() {
		cl.Writer, cl.Status = next, "available"
		s.changeHook("rds", id, cl.Status)
	})
	return queryAnswer(c, "FailoverDBCluster", struct {
		XMLName xml.Name
		Cluster dbClusterXML `xml:"DBCluster"`
	}{resultName("FailoverDBCluster"), s.clusterXML(cl)}), nil
}

// rebootDBInstance reboots an instance; with ForceFailover a Multi-AZ
// instance comes back in its standby zone.
func (s *Server) rebootDBInstance(c *call, form url.Values) (any, *apiError) {
	id := lastSegment(form.Get("DBInstanceIdentifier"))
	force, aerr := formBool(form, "ForceFailover")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.dbInstances[id]
	if !ok {
		return nil, rdsNotFound("DBInstance", id)
	}
	if force && !in.MultiAZ {
		return nil, &apiError{status: 400, code: "InvalidParameterCombination", msg: fmt.Sprintf("ForceFailover can only be used with a Multi-AZ DB instance; %s is not Multi-AZ", id)}
	}
	if in.Status != "available" {
		return nil, &apiError{status: 400, code: "InvalidDBInstanceState", msg: fmt.Sprintf("DBInstance %s is %s, not available.", id, in.Status)}
	}
	in.Status = "rebooting"
	in.gen++
	s.changeHook("rds", id, in.Status)
	s.unlessChanged(s.opts.TransitionDelay, &in.gen, func() {
		if force {
			in.AZ, in.SecondaryAZ = in.SecondaryAZ, in.AZ
		}
		in.Status = "available"
		s.changeHook("rds", id, in.Status)
	})
	return queryAnswer(c, "RebootDBInstance", struct {
		XMLName  xml.Name
		Instance dbInstanceXML `xml:"DBInstance"`
	}{resultName("RebootDBInstance"), s.dbInstanceXML(in)}), nil
}

package aws

import (
	"context"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

func TestECSTasks(t *testing.T) {
	log := &stateLog{}
	s := startServer(t, Options{Hooks: Hooks{Change: func(svc, id, state string) { log.add(svc+":"+id, state) }}})
	checkout, batch := seedTasks(t, s)
	c := ecs.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	ctx := context.Background()
	listAndDescribeTasks(t, ctx, c, checkout)
	stopTasks(t, ctx, c, s, checkout, batch)

	_, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: sdkaws.String("nope")})
	wantCode(t, err, "ClusterNotFoundException", "unknown cluster")
	_, err = c.StopTask(ctx, &ecs.StopTaskInput{Cluster: sdkaws.String("prod"), Task: sdkaws.String("0123")})
	wantCode(t, err, "InvalidParameterException", "unknown task")
	_, err = c.ListClusters(ctx, &ecs.ListClustersInput{})
	wantCode(t, err, "UnknownOperationException", "unknown operation")
	log.waitFor(t, "ecs:"+checkout[0]+"=STOPPED", 1)
}

// seedTasks adds three tasks of the checkout service, one of search and a
// lone task of no service (batch).
func seedTasks(t *testing.T, s *Server) (checkout []string, batch string) {
	for i := 0; i < 3; i++ {
		arn, err := s.AddTask(Task{Cluster: "prod", Service: "checkout", Tags: map[string]string{"team": "pay"}})
		if err != nil {
			t.Fatal(err)
		}
		checkout = append(checkout, arn)
	}
	if _, err := s.AddTask(Task{Cluster: "prod", Service: "search"}); err != nil {
		t.Fatal(err)
	}
	batch, err := s.AddTask(Task{Cluster: "prod", Family: "nightly"})
	if err != nil {
		t.Fatal(err)
	}
	return checkout, batch
}

// listAndDescribeTasks lists a service's tasks page by page and describes
// one with its tags, and one that does not exist.
func listAndDescribeTasks(t *testing.T, ctx context.Context, c *ecs.Client, checkout []string) {
	var listed []string
	p := ecs.NewListTasksPaginator(c, &ecs.ListTasksInput{Cluster: sdkaws.String("prod"), ServiceName: sdkaws.String("checkout"), MaxResults: sdkaws.Int32(2)})
	for _, pg := range readPages(t, 5, p.HasMorePages, p.NextPage) {
		listed = append(listed, pg.TaskArns...)
	}
	if strings.Join(listed, ",") != strings.Join(checkout, ",") {
		t.Errorf("listed %v, want %v", listed, checkout)
	}
	desc, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: sdkaws.String("prod"), Tasks: []string{checkout[0], "nope"}, Include: []ecstypes.TaskField{ecstypes.TaskFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Tasks) != 1 || sdkaws.ToString(desc.Tasks[0].Group) != "service:checkout" || sdkaws.ToString(desc.Tasks[0].LastStatus) != "RUNNING" ||
		len(desc.Tasks[0].Tags) != 1 || len(desc.Failures) != 1 || sdkaws.ToString(desc.Failures[0].Reason) != "MISSING" {
		t.Errorf("describe: %+v", desc)
	}
}

// stopTasks stops a service's task, which the service replaces, and the
// lone task, which stays gone.
func stopTasks(t *testing.T, ctx context.Context, c *ecs.Client, s *Server, checkout []string, batch string) {
	stop, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: sdkaws.String("prod"), Task: sdkaws.String(checkout[0]), Reason: sdkaws.String("gameday run 9")})
	if err != nil {
		t.Fatal(err)
	}
	if sdkaws.ToString(stop.Task.DesiredStatus) != "STOPPED" || sdkaws.ToString(stop.Task.StoppedReason) != "gameday run 9" {
		t.Errorf("stop: %+v", stop.Task)
	}
	if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: sdkaws.String("prod"), Task: sdkaws.String(batch)}); err != nil {
		t.Fatal(err)
	}
	// The service replaces its stopped task; the lone task stays gone.
	eventually(t, func() string {
		out, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: sdkaws.String("prod"), ServiceName: sdkaws.String("checkout")})
		if err != nil {
			return err.Error()
		}
		running := 0
		for _, tk := range s.Tasks("prod") {
			if tk.Service == "checkout" && tk.LastStatus == "RUNNING" {
				running++
			}
		}
		if len(out.TaskArns) != 3 || running != 3 {
			return "checkout not back to 3 running tasks"
		}
		return ""
	})
	if got, _ := s.Task(checkout[0]); got.LastStatus != "STOPPED" {
		t.Errorf("stopped task is %s", got.LastStatus)
	}
	if got, _ := s.Task(batch); got.LastStatus != "STOPPED" {
		t.Errorf("lone task is %s", got.LastStatus)
	}
	stopped, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: sdkaws.String("prod"), DesiredStatus: ecstypes.DesiredStatusStopped})
	if err != nil || len(stopped.TaskArns) != 2 {
		t.Errorf("stopped tasks: %v %v", err, stopped)
	}
}

func TestRDSFailoverAndReboot(t *testing.T) {
	s := startServer(t, Options{})
	if err := s.AddDBCluster(DBCluster{ID: "orders", Tags: map[string]string{"service": "orders"}}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []DBInstance{{ID: "orders-1", Cluster: "orders"}, {ID: "orders-2", Cluster: "orders", AZ: "us-east-1b"}, {ID: "legacy", MultiAZ: true}, {ID: "single"}} {
		if err := s.AddDBInstance(in); err != nil {
			t.Fatal(err)
		}
	}
	c := rds.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	ctx := context.Background()

	cl, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: sdkaws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	got := cl.DBClusters[0]
	writer := func(cl rdstypes.DBCluster) string {
		for _, m := range cl.DBClusterMembers {
			if sdkaws.ToBool(m.IsClusterWriter) {
				return sdkaws.ToString(m.DBInstanceIdentifier)
			}
		}
		return ""
	}
	if sdkaws.ToString(got.Status) != "available" || len(got.DBClusterMembers) != 2 || writer(got) != "orders-1" || len(got.TagList) != 1 || !sdkaws.ToBool(got.MultiAZ) {
		t.Errorf("cluster %+v", got)
	}
	_, err = rds.NewFromConfig(sdkConfig(t, s, denyKey, testSecret)).FailoverDBCluster(ctx, &rds.FailoverDBClusterInput{DBClusterIdentifier: sdkaws.String("orders")})
	wantCode(t, err, "AccessDenied", "denied key")
	if _, err := c.FailoverDBCluster(ctx, &rds.FailoverDBClusterInput{DBClusterIdentifier: sdkaws.String("orders")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.FailoverDBCluster(ctx, &rds.FailoverDBClusterInput{DBClusterIdentifier: sdkaws.String("orders")})
	wantCode(t, err, "InvalidDBClusterStateFault", "failover during failover")
	eventually(t, func() string {
		out, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{Filters: []rdstypes.Filter{{Name: sdkaws.String("db-cluster-id"), Values: []string{"orders"}}}})
		if err != nil {
			return err.Error()
		}
		if st, w := sdkaws.ToString(out.DBClusters[0].Status), writer(out.DBClusters[0]); st != "available" || w != "orders-2" {
			return "cluster " + st + " writer " + w + ", want available writer orders-2"
		}
		return ""
	})

	if _, err := c.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: sdkaws.String("legacy"), ForceFailover: sdkaws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		out, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: sdkaws.String("legacy")})
		if err != nil {
			return err.Error()
		}
		if in := out.DBInstances[0]; sdkaws.ToString(in.DBInstanceStatus) != "available" || sdkaws.ToString(in.AvailabilityZone) != "us-east-1b" {
			return "legacy " + sdkaws.ToString(in.DBInstanceStatus) + " in " + sdkaws.ToString(in.AvailabilityZone)
		}
		return ""
	})
	_, err = c.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: sdkaws.String("single"), ForceFailover: sdkaws.Bool(true)})
	wantCode(t, err, "InvalidParameterCombination", "force failover of a single-AZ instance")
	all, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{Filters: []rdstypes.Filter{{Name: sdkaws.String("db-cluster-id"), Values: []string{"arn:aws:rds:us-east-1:123456789012:cluster:orders"}}}})
	if err != nil || len(all.DBInstances) != 2 {
		t.Errorf("instances of the cluster by ARN: %v %v", err, all)
	}
	_, err = c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: sdkaws.String("nope")})
	wantCode(t, err, "DBClusterNotFoundFault", "unknown cluster")
	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{Filters: []rdstypes.Filter{{Name: sdkaws.String("tag:service"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue", "tag filter")
	_, err = c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{})
	wantCode(t, err, "InvalidAction", "unknown action")
}

func TestAutoScalingProcesses(t *testing.T) {
	s := startServer(t, Options{})
	seedFleet(t, s, 3, func(int) map[string]string { return nil })
	if err := s.SetInstanceState(InstanceID(3), StateStopped); err != nil {
		t.Fatal(err)
	}
	for _, g := range []AutoScalingGroup{
		{Name: "checkout-asg", MinSize: 2, MaxSize: 6, Desired: 3, Instances: []string{InstanceID(1), InstanceID(2), InstanceID(3)}, Tags: map[string]string{"service": "checkout"}, Suspended: map[string]string{"AZRebalance": "already off"}},
		{Name: "search-asg", Tags: map[string]string{"service": "search"}},
	} {
		if err := s.AddAutoScalingGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	c := autoscaling.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	ctx := context.Background()
	out, err := c.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{Filters: []asgtypes.Filter{{Name: sdkaws.String("tag:service"), Values: []string{"checkout"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.AutoScalingGroups) != 1 {
		t.Fatalf("%d groups, want 1", len(out.AutoScalingGroups))
	}
	g := out.AutoScalingGroups[0]
	if sdkaws.ToInt32(g.DesiredCapacity) != 3 || len(g.Instances) != 3 || g.Instances[2].LifecycleState == asgtypes.LifecycleStateInService ||
		len(g.SuspendedProcesses) != 1 || len(g.Tags) != 1 {
		t.Errorf("group %+v", g)
	}
	if _, err := c.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: sdkaws.String("checkout-asg"), ScalingProcesses: []string{"Launch", "HealthCheck"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AutoScalingGroup("checkout-asg"); len(got.Suspended) != 3 || got.Suspended["AZRebalance"] != "already off" {
		t.Errorf("after suspend: %v", got.Suspended)
	}
	if _, err := c.ResumeProcesses(ctx, &autoscaling.ResumeProcessesInput{AutoScalingGroupName: sdkaws.String("checkout-asg"), ScalingProcesses: []string{"Launch", "HealthCheck"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AutoScalingGroup("checkout-asg"); len(got.Suspended) != 1 {
		t.Errorf("after resume: %v, want only AZRebalance", got.Suspended)
	}
	_, err = c.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: sdkaws.String("checkout-asg"), ScalingProcesses: []string{"Teleport"}})
	wantCode(t, err, "ValidationError", "unknown process")
	_, err = c.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: sdkaws.String("nope")})
	wantCode(t, err, "ValidationError", "unknown group")
	names := map[string]bool{}
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(c, &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: sdkaws.Int32(1)})
	for _, pg := range readPages(t, 5, p.HasMorePages, p.NextPage) {
		for _, g := range pg.AutoScalingGroups {
			names[sdkaws.ToString(g.AutoScalingGroupName)] = true
		}
	}
	if len(names) != 2 {
		t.Errorf("paginated %v, want both groups", names)
	}
	s.Throttle("autoscaling:DescribeAutoScalingGroups", 2)
	if _, err := c.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{}); err != nil {
		t.Errorf("after 2 throttles: %v", err)
	}
	_, err = autoscaling.NewFromConfig(sdkConfig(t, s, testKey, "wrong")).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	wantCode(t, err, "SignatureDoesNotMatch", "wrong secret")
}

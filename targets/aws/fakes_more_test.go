package aws

import (
	"context"
	"slices"
	"sync"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// Fakes of the services the lab endpoint does not serve.

type fakeASG struct {
	mu        sync.Mutex
	suspended map[string][]string // by group
	calls     []string
}

func (f *fakeASG) DescribeAutoScalingGroups(_ context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out autoscaling.DescribeAutoScalingGroupsOutput
	for name, ps := range f.suspended {
		if len(in.AutoScalingGroupNames) > 0 && !slices.Contains(in.AutoScalingGroupNames, name) {
			continue
		}
		g := asgtypes.AutoScalingGroup{AutoScalingGroupName: sdkaws.String(name)}
		for _, p := range ps {
			g.SuspendedProcesses = append(g.SuspendedProcesses, asgtypes.SuspendedProcess{ProcessName: sdkaws.String(p)})
		}
		out.AutoScalingGroups = append(out.AutoScalingGroups, g)
	}
	return &out, nil
}

func (f *fakeASG) SuspendProcesses(_ context.Context, in *autoscaling.SuspendProcessesInput, _ ...func(*autoscaling.Options)) (*autoscaling.SuspendProcessesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := *in.AutoScalingGroupName
	f.calls = append(f.calls, "Suspend "+name)
	for _, p := range in.ScalingProcesses {
		if !slices.Contains(f.suspended[name], p) {
			f.suspended[name] = append(f.suspended[name], p)
		}
	}
	return &autoscaling.SuspendProcessesOutput{}, nil
}

func (f *fakeASG) ResumeProcesses(_ context.Context, in *autoscaling.ResumeProcessesInput, _ ...func(*autoscaling.Options)) (*autoscaling.ResumeProcessesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := *in.AutoScalingGroupName
	f.calls = append(f.calls, "Resume "+name)
	f.suspended[name] = slices.DeleteFunc(f.suspended[name], func(p string) bool { return slices.Contains(in.ScalingProcesses, p) })
	return &autoscaling.ResumeProcessesOutput{}, nil
}

type fakeRDS struct {
	mu        sync.Mutex
	clusters  map[string]int  // members by cluster
	multiAZ   map[string]bool // by instance
	failovers []string
}

func (f *fakeRDS) DescribeDBClusters(_ context.Context, in *rds.DescribeDBClustersInput, _ ...func(*rds.Options)) (*rds.DescribeDBClustersOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out rds.DescribeDBClustersOutput
	for id, n := range f.clusters {
		if in.DBClusterIdentifier != nil && *in.DBClusterIdentifier != id {
			continue
		}
		c := rdstypes.DBCluster{DBClusterIdentifier: sdkaws.String(id), Status: sdkaws.String("available"), TagList: []rdstypes.Tag{{Key: sdkaws.String("service"), Value: sdkaws.String("checkout")}}}
		for i := 0; i < n; i++ {
			c.DBClusterMembers = append(c.DBClusterMembers, rdstypes.DBClusterMember{DBInstanceIdentifier: sdkaws.String(id + "-" + string(rune('a'+i))), IsClusterWriter: sdkaws.Bool(i == 0)})
		}
		out.DBClusters = append(out.DBClusters, c)
	}
	return &out, nil
}

func (f *fakeRDS) DescribeDBInstances(_ context.Context, in *rds.DescribeDBInstancesInput, _ ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out rds.DescribeDBInstancesOutput
	for id, multi := range f.multiAZ {
		if in.DBInstanceIdentifier != nil && *in.DBInstanceIdentifier != id {
			continue
		}
		out.DBInstances = append(out.DBInstances, rdstypes.DBInstance{DBInstanceIdentifier: sdkaws.String(id), DBInstanceStatus: sdkaws.String("available"), MultiAZ: sdkaws.Bool(multi)})
	}
	return &out, nil
}

func (f *fakeRDS) FailoverDBCluster(_ context.Context, in *rds.FailoverDBClusterInput, _ ...func(*rds.Options)) (*rds.FailoverDBClusterOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failovers = append(f.failovers, "cluster "+*in.DBClusterIdentifier)
	return &rds.FailoverDBClusterOutput{}, nil
}

func (f *fakeRDS) RebootDBInstance(_ context.Context, in *rds.RebootDBInstanceInput, _ ...func(*rds.Options)) (*rds.RebootDBInstanceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if sdkaws.ToBool(in.ForceFailover) {
		f.failovers = append(f.failovers, "instance "+*in.DBInstanceIdentifier)
	}
	return &rds.RebootDBInstanceOutput{}, nil
}

type fakeECS struct {
	mu      sync.Mutex
	tasks   map[string]string // status by ARN
	stopped []string
}

func (f *fakeECS) ListTasks(_ context.Context, in *ecs.ListTasksInput, _ ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out ecs.ListTasksOutput
	for arn, st := range f.tasks {
		if st == "RUNNING" {
			out.TaskArns = append(out.TaskArns, arn)
		}
	}
	slices.Sort(out.TaskArns)
	return &out, nil
}

func (f *fakeECS) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out ecs.DescribeTasksOutput
	for _, arn := range in.Tasks {
		st, ok := f.tasks[arn]
		if !ok {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: sdkaws.String(arn), Reason: sdkaws.String("MISSING")})
			continue
		}
		out.Tasks = append(out.Tasks, ecstypes.Task{TaskArn: sdkaws.String(arn), LastStatus: sdkaws.String(st), Group: sdkaws.String("service:checkout")})
	}
	return &out, nil
}

func (f *fakeECS) StopTask(_ context.Context, in *ecs.StopTaskInput, _ ...func(*ecs.Options)) (*ecs.StopTaskOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tasks[*in.Task] = "STOPPED"
	f.stopped = append(f.stopped, *in.Task+" ("+sdkaws.ToString(in.Reason)+")")
	return &ecs.StopTaskOutput{Task: &ecstypes.Task{DesiredStatus: sdkaws.String("STOPPED")}}, nil
}

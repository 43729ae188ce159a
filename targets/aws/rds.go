package aws

import (
	"context"
	"fmt"
	"strconv"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// LabelWriter is an Aurora cluster's writer instance when resolved.
const LabelWriter = "writer"

func rdsFilters(a *runbook.AWSTarget) []rdstypes.Filter {
	var fs []rdstypes.Filter
	for k, v := range a.Filters {
		fs = append(fs, rdstypes.Filter{Name: sdkaws.String(k), Values: v})
	}
	return fs
}

func rdsTags(tl []rdstypes.Tag) map[string]string {
	out := map[string]string{}
	for _, t := range tl {
		out[sdkaws.ToString(t.Key)] = sdkaws.ToString(t.Value)
	}
	return out
}

func writerOf(c rdstypes.DBCluster) string {
	for _, m := range c.DBClusterMembers {
		if sdkaws.ToBool(m.IsClusterWriter) {
			return sdkaws.ToString(m.DBInstanceIdentifier)
		}
	}
	return ""
}

func describeClusters(ctx context.Context, s *session, in *rds.DescribeDBClustersInput) ([]rdstypes.DBCluster, error) {
	p := rds.NewDescribeDBClustersPaginator(s.RDS, in)
	return allPages(ctx, p.HasMorePages, p.NextPage, "rds DescribeDBClusters",
		func(o *rds.DescribeDBClustersOutput) []rdstypes.DBCluster { return o.DBClusters })
}

func describeDBInstances(ctx context.Context, s *session, in *rds.DescribeDBInstancesInput) ([]rdstypes.DBInstance, error) {
	p := rds.NewDescribeDBInstancesPaginator(s.RDS, in)
	return allPages(ctx, p.HasMorePages, p.NextPage, "rds DescribeDBInstances",
		func(o *rds.DescribeDBInstancesOutput) []rdstypes.DBInstance { return o.DBInstances })
}

func (e *Executor) resolveClusters(ctx context.Context, s *session, t runbook.Target) ([]targets.Member, error) {
	a := t.AWS
	var all []rdstypes.DBCluster
	if len(a.IDs) > 0 {
		for _, id := range a.IDs {
			cs, err := describeClusters(ctx, s, &rds.DescribeDBClustersInput{DBClusterIdentifier: sdkaws.String(id)})
			if err != nil {
				return nil, fmt.Errorf("cluster %s: %w", id, err)
			}
			all = append(all, cs...)
		}
	} else {
		cs, err := describeClusters(ctx, s, &rds.DescribeDBClustersInput{Filters: rdsFilters(a)})
		if err != nil {
			return nil, err
		}
		all = cs
	}
	var out []targets.Member
	for _, c := range all {
		tags := rdsTags(c.TagList)
		if !hasTags(tags, a.Tags) {
			continue
		}
		l := map[string]string{LabelARN: sdkaws.ToString(c.DBClusterArn), LabelState: sdkaws.ToString(c.Status), LabelWriter: writerOf(c),
			"members": strconv.Itoa(len(c.DBClusterMembers))}
		for k, v := range tags {
			l[TagLabelPrefix+k] = v
		}
		out = append(out, targets.Member{ID: sdkaws.ToString(c.DBClusterIdentifier), Addr: sdkaws.ToString(c.DBClusterArn), Labels: l})
	}
	return out, nil
}

func (e *Executor) resolveDBInstances(ctx context.Context, s *session, t runbook.Target) ([]targets.Member, error) {
	a := t.AWS
	var all []rdstypes.DBInstance
	if len(a.IDs) > 0 {
		for _, id := range a.IDs {
			is, err := describeDBInstances(ctx, s, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: sdkaws.String(id)})
			if err != nil {
				return nil, fmt.Errorf("instance %s: %w", id, err)
			}
			all = append(all, is...)
		}
	} else {
		is, err := describeDBInstances(ctx, s, &rds.DescribeDBInstancesInput{Filters: rdsFilters(a)})
		if err != nil {
			return nil, err
		}
		all = is
	}
	var out []targets.Member
	for _, in := range all {
		tags := rdsTags(in.TagList)
		if !hasTags(tags, a.Tags) {
			continue
		}
		l := map[string]string{LabelARN: sdkaws.ToString(in.DBInstanceArn), LabelState: sdkaws.ToString(in.DBInstanceStatus),
			"multi_az": strconv.FormatBool(sdkaws.ToBool(in.MultiAZ))}
		if in.AvailabilityZone != nil {
			l[LabelAZ] = *in.AvailabilityZone
		}
		for k, v := range tags {
			l[TagLabelPrefix+k] = v
		}
		out = append(out, targets.Member{ID: sdkaws.ToString(in.DBInstanceIdentifier), Addr: sdkaws.ToString(in.DBInstanceArn), Labels: l})
	}
	return out, nil
}

// cluster reports whether the member is an Aurora cluster rather than a
// Multi-AZ instance.
func cluster(inj targets.Injection) bool { return inj.Member.Labels[LabelResource] == "rds:cluster" }

var rdsFailover = attack{
	plan: func(e *Executor, inj targets.Injection) []string {
		id := inj.Member.ID
		if cluster(inj) {
			return []string{
				"preflight: rds DescribeDBClusters --db-cluster-identifier " + id + " (available, with a reader to fail over to)",
				"inject: rds FailoverDBCluster --db-cluster-identifier " + id,
				"rollback: none: the new writer stays; fail back with another failover if needed",
			}
		}
		return []string{
			"preflight: rds DescribeDBInstances --db-instance-identifier " + id + " (available, Multi-AZ)",
			"inject: rds RebootDBInstance --db-instance-identifier " + id + " --force-failover",
			"rollback: none: the standby stays primary",
		}
	},
	preflight: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error {
		id := inj.Member.ID
		if cluster(inj) {
			cs, err := describeClusters(ctx, s, &rds.DescribeDBClustersInput{DBClusterIdentifier: sdkaws.String(id)})
			if err != nil {
				return err
			}
			if len(cs) != 1 {
				return fmt.Errorf("cluster %s not found", id)
			}
			if st := sdkaws.ToString(cs[0].Status); st != "available" {
				return fmt.Errorf("cluster %s is %s, not available", id, st)
			}
			if len(cs[0].DBClusterMembers) < 2 {
				return fmt.Errorf("cluster %s has no reader to fail over to", id)
			}
			return nil
		}
		is, err := describeDBInstances(ctx, s, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: sdkaws.String(id)})
		if err != nil {
			return err
		}
		if len(is) != 1 {
			return fmt.Errorf("instance %s not found", id)
		}
		if st := sdkaws.ToString(is[0].DBInstanceStatus); st != "available" {
			return fmt.Errorf("instance %s is %s, not available", id, st)
		}
		if !sdkaws.ToBool(is[0].MultiAZ) {
			return fmt.Errorf("instance %s is not Multi-AZ: it has no standby to fail over to", id)
		}
		return nil
	},
	inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
		id := inj.Member.ID
		if cluster(*inj) {
			e.opts.Logf("aws %s: rds FailoverDBCluster", id)
			out, err := s.RDS.FailoverDBCluster(ctx, &rds.FailoverDBClusterInput{DBClusterIdentifier: sdkaws.String(id)})
			if err != nil {
				return targets.Result{}, fmt.Errorf("rds FailoverDBCluster: %w", explain(err))
			}
			inj.State["previous_writer"] = inj.Member.Labels[LabelWriter]
			st := ""
			if out.DBCluster != nil {
				st = sdkaws.ToString(out.DBCluster.Status)
			}
			return targets.Result{Output: fmt.Sprintf("cluster %s failing over from %s (%s)", id, inj.Member.Labels[LabelWriter], st)}, nil
		}
		e.opts.Logf("aws %s: rds RebootDBInstance --force-failover", id)
		if _, err := s.RDS.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: sdkaws.String(id), ForceFailover: sdkaws.Bool(true)}); err != nil {
			return targets.Result{}, fmt.Errorf("rds RebootDBInstance: %w", explain(err))
		}
		return targets.Result{Output: "instance " + id + " rebooting with failover"}, nil
	},
	rollback: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
		return targets.Result{Output: "nothing to roll back: after a failover the database serves from its new primary; fail back with another failover if needed", Nothing: true}, nil
	},
}

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

// describeClusters reads the cluster id names, or those the filters pick.
func describeClusters(ctx context.Context, s *session, id *string, fs []rdstypes.Filter) ([]rdstypes.DBCluster, error) {
	p := rds.NewDescribeDBClustersPaginator(s.RDS, &rds.DescribeDBClustersInput{DBClusterIdentifier: id, Filters: fs})
	return allPages(ctx, p.HasMorePages, p.NextPage, "rds DescribeDBClusters",
		func(o *rds.DescribeDBClustersOutput) []rdstypes.DBCluster { return o.DBClusters })
}

// describeDBInstances reads the instance id names, or those the filters pick.
func describeDBInstances(ctx context.Context, s *session, id *string, fs []rdstypes.Filter) ([]rdstypes.DBInstance, error) {
	p := rds.NewDescribeDBInstancesPaginator(s.RDS, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: id, Filters: fs})
	return allPages(ctx, p.HasMorePages, p.NextPage, "rds DescribeDBInstances",
		func(o *rds.DescribeDBInstancesOutput) []rdstypes.DBInstance { return o.DBInstances })
}

// describeRDS looks resources up one call per id when the target names ids
// (so the error names the one that failed), or by the target's filters.
func describeRDS[T any](ctx context.Context, s *session, a *runbook.AWSTarget, what string,
	describe func(context.Context, *session, *string, []rdstypes.Filter) ([]T, error)) ([]T, error) {
	if len(a.IDs) == 0 {
		return describe(ctx, s, nil, rdsFilters(a))
	}
	var all []T
	for _, id := range a.IDs {
		found, err := describe(ctx, s, sdkaws.String(id), nil)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", what, id, err)
		}
		all = append(all, found...)
	}
	return all, nil
}

// availableOne reads the one resource (what) that id names and refuses it
// unless its status is available.
func availableOne[T any](ctx context.Context, s *session, what, id string,
	describe func(context.Context, *session, *string, []rdstypes.Filter) ([]T, error), status func(T) *string) (T, error) {
	var none T
	found, err := describe(ctx, s, sdkaws.String(id), nil)
	if err != nil {
		return none, err
	}
	if len(found) != 1 {
		return none, fmt.Errorf("%s %s not found", what, id)
	}
	if st := sdkaws.ToString(status(found[0])); st != "available" {
		return none, fmt.Errorf("%s %s is %s, not available", what, id, st)
	}
	return found[0], nil
}

// rdsMember is a resource carrying every tag the target asks for, as a
// member with its ARN and tags among its labels; ok is false for one that
// lacks a tag.
func rdsMember(a *runbook.AWSTarget, id, arn *string, tagList []rdstypes.Tag, labels map[string]string) (m targets.Member, ok bool) {
	tags := rdsTags(tagList)
	if !hasTags(tags, a.Tags) {
		return targets.Member{}, false
	}
	labels[LabelARN] = sdkaws.ToString(arn)
	for k, v := range tags {
		labels[TagLabelPrefix+k] = v
	}
	return targets.Member{ID: sdkaws.ToString(id), Addr: sdkaws.ToString(arn), Labels: labels}, true
}

// resolveRDS is the members among the resources (what) the target picks:
// member makes one of a resource, or reports it lacks a tag.
func resolveRDS[T any](ctx context.Context, s *session, a *runbook.AWSTarget, what string,
	describe func(context.Context, *session, *string, []rdstypes.Filter) ([]T, error), member func(T) (targets.Member, bool)) ([]targets.Member, error) {
	all, err := describeRDS(ctx, s, a, what, describe)
	if err != nil {
		return nil, err
	}
	var out []targets.Member
	for _, r := range all {
		if m, ok := member(r); ok {
			out = append(out, m)
		}
	}
	return out, everyNamed(a, "rds "+what, out)
}

func (e *Executor) resolveClusters(ctx context.Context, s *session, t runbook.Target) ([]targets.Member, error) {
	return resolveRDS(ctx, s, t.AWS, "cluster", describeClusters, func(c rdstypes.DBCluster) (targets.Member, bool) {
		l := map[string]string{LabelState: sdkaws.ToString(c.Status), LabelWriter: writerOf(c), "members": strconv.Itoa(len(c.DBClusterMembers))}
		return rdsMember(t.AWS, c.DBClusterIdentifier, c.DBClusterArn, c.TagList, l)
	})
}

func (e *Executor) resolveDBInstances(ctx context.Context, s *session, t runbook.Target) ([]targets.Member, error) {
	return resolveRDS(ctx, s, t.AWS, "instance", describeDBInstances, func(in rdstypes.DBInstance) (targets.Member, bool) {
		l := map[string]string{LabelState: sdkaws.ToString(in.DBInstanceStatus), "multi_az": strconv.FormatBool(sdkaws.ToBool(in.MultiAZ))}
		if in.AvailabilityZone != nil {
			l[LabelAZ] = *in.AvailabilityZone
		}
		return rdsMember(t.AWS, in.DBInstanceIdentifier, in.DBInstanceArn, in.TagList, l)
	})
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
			c, err := availableOne(ctx, s, "cluster", id, describeClusters, func(c rdstypes.DBCluster) *string { return c.Status })
			if err != nil {
				return err
			}
			if len(c.DBClusterMembers) < 2 {
				return fmt.Errorf("cluster %s has no reader to fail over to", id)
			}
			return nil
		}
		in, err := availableOne(ctx, s, "instance", id, describeDBInstances, func(in rdstypes.DBInstance) *string { return in.DBInstanceStatus })
		if err != nil {
			return err
		}
		if !sdkaws.ToBool(in.MultiAZ) {
			return fmt.Errorf("instance %s is not Multi-AZ: it has no standby to fail over to", id)
		}
		return nil
	},
	inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
		id := inj.Member.ID
		if cluster(*inj) {
			e.opts.Logf("aws %s: rds FailoverDBCluster", id)
			var tries int
			out, err := s.RDS.FailoverDBCluster(ctx, &rds.FailoverDBClusterInput{DBClusterIdentifier: sdkaws.String(id)},
				func(o *rds.Options) { o.APIOptions = append(o.APIOptions, attempts(&tries)) })
			if err != nil && tries > 1 && apiCode(err) == "InvalidDBClusterStateFault" {
				if st := clusterStatus(ctx, s, id); st == "failing-over" {
					inj.State["previous_writer"] = inj.Member.Labels[LabelWriter]
					return targets.Result{Output: fmt.Sprintf("cluster %s failing over from %s (%s): the first FailoverDBCluster's answer was lost and the SDK's retry found its failover under way", id, inj.Member.Labels[LabelWriter], st)}, nil
				}
			}
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
		var tries int
		_, err := s.RDS.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: sdkaws.String(id), ForceFailover: sdkaws.Bool(true)},
			func(o *rds.Options) { o.APIOptions = append(o.APIOptions, attempts(&tries)) })
		if err != nil && tries > 1 && apiCode(err) == "InvalidDBInstanceState" {
			if found, derr := describeDBInstances(ctx, s, sdkaws.String(id), nil); derr == nil && len(found) == 1 && sdkaws.ToString(found[0].DBInstanceStatus) == "rebooting" {
				return targets.Result{Output: "instance " + id + " rebooting with failover: the first RebootDBInstance's answer was lost and the SDK's retry found it rebooting"}, nil
			}
		}
		if err != nil {
			return targets.Result{}, fmt.Errorf("rds RebootDBInstance: %w", explain(err))
		}
		return targets.Result{Output: "instance " + id + " rebooting with failover"}, nil
	},
	rollback: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
		return targets.Result{Output: "nothing to roll back: after a failover the database serves from its new primary; fail back with another failover if needed", Nothing: true}, nil
	},
}

// clusterStatus is the cluster's status as RDS reports it, or "" when it
// cannot be read.
func clusterStatus(ctx context.Context, s *session, id string) string {
	found, err := describeClusters(ctx, s, sdkaws.String(id), nil)
	if err != nil || len(found) != 1 {
		return ""
	}
	return sdkaws.ToString(found[0].Status)
}

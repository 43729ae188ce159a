package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// LabelSuspended is the processes of an Auto Scaling group that were
// already suspended when it was resolved, comma-separated.
const LabelSuspended = "suspended"

func describeGroups(ctx context.Context, s *session, in *autoscaling.DescribeAutoScalingGroupsInput) ([]asgtypes.AutoScalingGroup, error) {
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(s.ASG, in)
	return allPages(ctx, p.HasMorePages, p.NextPage, "autoscaling DescribeAutoScalingGroups",
		func(o *autoscaling.DescribeAutoScalingGroupsOutput) []asgtypes.AutoScalingGroup {
			return o.AutoScalingGroups
		})
}

func suspendedOf(g asgtypes.AutoScalingGroup) []string {
	var out []string
	for _, p := range g.SuspendedProcesses {
		out = append(out, sdkaws.ToString(p.ProcessName))
	}
	slices.Sort(out)
	return out
}

func (e *Executor) resolveGroups(ctx context.Context, s *session, t runbook.Target) ([]targets.Member, error) {
	a := t.AWS
	in := &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: a.IDs,
		Filters: tagAndFilters(a, nil, func(name string, values []string) asgtypes.Filter {
			return asgtypes.Filter{Name: sdkaws.String(name), Values: values}
		})}
	gs, err := describeGroups(ctx, s, in)
	if err != nil {
		return nil, err
	}
	var out []targets.Member
	for _, g := range gs {
		name := sdkaws.ToString(g.AutoScalingGroupName)
		l := map[string]string{LabelARN: sdkaws.ToString(g.AutoScalingGroupARN), LabelSuspended: strings.Join(suspendedOf(g), ",")}
		for _, tag := range g.Tags {
			l[TagLabelPrefix+sdkaws.ToString(tag.Key)] = sdkaws.ToString(tag.Value)
		}
		out = append(out, targets.Member{ID: name, Labels: l})
	}
	if err := everyNamed(a, "auto scaling group", out); err != nil {
		return nil, fmt.Errorf("%w, or does not exist", err)
	}
	return out, nil
}

func group(ctx context.Context, s *session, name string) (asgtypes.AutoScalingGroup, error) {
	gs, err := describeGroups(ctx, s, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return asgtypes.AutoScalingGroup{}, err
	}
	if len(gs) != 1 {
		return asgtypes.AutoScalingGroup{}, fmt.Errorf("auto scaling group %s not found", name)
	}
	return gs[0], nil
}

// minus is want without the names in have.
func minus(want, have []string) []string {
	var out []string
	for _, p := range want {
		if !slices.Contains(have, p) {
			out = append(out, p)
		}
	}
	return out
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// asgSuspend suspends only what is not suspended already and records
// that, so the rollback resumes exactly what the attack suspended and
// nothing a team had suspended on purpose.
var asgSuspend = attack{
	plan: func(e *Executor, inj targets.Injection) []string {
		ps := inj.Params["processes"]
		return []string{
			"preflight: autoscaling DescribeAutoScalingGroups --auto-scaling-group-names " + inj.Member.ID,
			"inject: autoscaling SuspendProcesses --auto-scaling-group-name " + inj.Member.ID + " --scaling-processes " + ps + " (those not already suspended)",
			"rollback: autoscaling ResumeProcesses of exactly those the inject suspended",
		}
	},
	preflight: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error {
		_, err := group(ctx, s, inj.Member.ID)
		return err
	},
	inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
		v, err := e.parse(*inj)
		if err != nil {
			return targets.Result{}, err
		}
		g, err := group(ctx, s, inj.Member.ID)
		if err != nil {
			return targets.Result{}, err
		}
		ours := minus(v.Strings("processes"), suspendedOf(g))
		inj.State["suspended"] = strings.Join(ours, ",")
		if len(ours) == 0 {
			return targets.Result{Output: "every process asked for was already suspended; nothing changed"}, nil
		}
		return processCall(e, inj.Member.ID, "SuspendProcesses", ours, "suspended", func() error {
			_, err := s.ASG.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: sdkaws.String(inj.Member.ID), ScalingProcesses: ours})
			return err
		})
	},
	rollback: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
		ours, recorded := inj.State["suspended"]
		list := splitList(ours)
		if !recorded {
			// The inject's record was lost: resume what was asked for
			// except what was already suspended when resolved.
			v, err := e.parse(inj)
			if err != nil {
				return targets.Result{}, err
			}
			list = minus(v.Strings("processes"), splitList(inj.Member.Labels[LabelSuspended]))
		}
		if len(list) == 0 {
			return targets.Result{Output: "nothing to resume"}, nil
		}
		return processCall(e, inj.Member.ID, "ResumeProcesses", list, "resumed", func() error {
			_, err := s.ASG.ResumeProcesses(ctx, &autoscaling.ResumeProcessesInput{AutoScalingGroupName: sdkaws.String(inj.Member.ID), ScalingProcesses: list})
			return err
		})
	},
}

// processCall makes call, which suspends or resumes (op) the group's
// processes in list, logged first; the result says what was done.
func processCall(e *Executor, group, op string, list []string, done string, call func() error) (targets.Result, error) {
	e.opts.Logf("aws %s: autoscaling %s %s", group, op, strings.Join(list, ","))
	if err := call(); err != nil {
		return targets.Result{}, fmt.Errorf("autoscaling %s: %w", op, explain(err))
	}
	return targets.Result{Output: done + " " + strings.Join(list, ", ")}, nil
}

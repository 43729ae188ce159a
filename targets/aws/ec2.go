package aws

import (
	"context"
	"fmt"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/gameday/gameday/targets"
)

// dryRun turns the answer to a DryRun call into a preflight verdict:
// DryRunOperation is AWS saying the call would have succeeded.
func dryRun(op string, err error) error {
	switch apiCode(err) {
	case "DryRunOperation":
		return nil
	case "UnauthorizedOperation":
		return fmt.Errorf("not permitted to call ec2 %s (grant ec2:%s on the instance; see docs/aws.md): %w", op, op, explain(err))
	case "":
		if err == nil {
			return fmt.Errorf("ec2 %s with DryRun returned success instead of DryRunOperation; refusing to trust an endpoint that ignores DryRun", op)
		}
	}
	return fmt.Errorf("ec2 %s (DryRun): %w", op, explain(err))
}

// ec2Attack is an attack that makes one EC2 instance call; rollback says
// what undoes it.
func ec2Attack(op, rollbackPlan string, rollback func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error)) attack {
	return attack{
		plan: func(e *Executor, inj targets.Injection) []string {
			id := inj.Member.ID
			return []string{
				fmt.Sprintf("preflight: ec2 %s --instance-ids %s --dry-run", op, id),
				fmt.Sprintf("inject: ec2 %s --instance-ids %s%s", op, id, forceFlag(inj)),
				"rollback: " + rollbackPlan,
			}
		},
		preflight: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error {
			if op == "StopInstances" {
				if err := asgRefusal(inj); err != nil {
					return err
				}
			}
			_, err := e.ec2Call(ctx, s, op, true, force(inj), inj.Member.ID)
			return dryRun(op, err)
		},
		inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
			e.opts.Logf("aws %s: ec2 %s", inj.Member.ID, op)
			out, err := e.ec2Call(ctx, s, op, false, force(*inj), inj.Member.ID)
			if err != nil {
				return targets.Result{}, fmt.Errorf("ec2 %s: %w", op, explain(err))
			}
			inj.State["requested"] = op
			return targets.Result{Output: inj.Member.ID + ": " + out}, nil
		},
		rollback: rollback,
	}
}

var (
	ec2Stop      = ec2Attack("StopInstances", "ec2 DescribeInstances, StartInstances if stopped, DescribeInstances until running", startAndWait)
	ec2Reboot    = ec2Attack("RebootInstances", "none: a reboot cannot be undone", noRollback("rebooted"))
	ec2Terminate = ec2Attack("TerminateInstances", "NONE: a terminated instance is gone for good", noRollback("terminated"))
)

func forceFlag(inj targets.Injection) string {
	if force(inj) {
		return " --force"
	}
	return ""
}

func force(inj targets.Injection) bool {
	return inj.Kind == "ec2-stop" && inj.Params["force"] == "true"
}

func stateName(st *ec2types.InstanceState) string {
	if st == nil {
		return "unknown"
	}
	return string(st.Name)
}

// startAndWait brings a stopped instance back and waits until it runs. It
// starts only what was running when resolved: an instance the target
// selected in another state is left as it was. Whatever the inject did or
// did not get to, the instance ends running, so a second call is a no-op.
func startAndWait(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
	id := inj.Member.ID
	if was := inj.Member.Labels[LabelState]; was != "" && was != string(ec2types.InstanceStateNameRunning) {
		return targets.Result{Output: fmt.Sprintf("%s was %s before the attack; left as it is", id, was)}, nil
	}
	ctx, cancel := e.bound(ctx)
	defer cancel()
	started := false
	for {
		out, err := e.ec2Call(ctx, s, "DescribeInstances", false, false, id)
		if err != nil {
			return targets.Result{}, fmt.Errorf("ec2 DescribeInstances: %w", explain(err))
		}
		switch st := ec2types.InstanceStateName(out); st {
		case ec2types.InstanceStateNameRunning:
			if started {
				return targets.Result{Output: id + " started and running"}, nil
			}
			// Running before gameday started it: something else did, or
			// the stop never held.
			return targets.Result{Output: id + " is running", Gone: true}, nil
		case ec2types.InstanceStateNameStopped:
			if !started {
				e.opts.Logf("aws %s: ec2 StartInstances", id)
				if _, err := e.ec2Call(ctx, s, "StartInstances", false, false, id); err != nil {
					return targets.Result{}, fmt.Errorf("ec2 StartInstances: %w", explain(err))
				}
				started = true
			}
		case ec2types.InstanceStateNameShuttingDown, ec2types.InstanceStateNameTerminated:
			return targets.Result{}, fmt.Errorf("instance %s is %s: it cannot be started again", id, st)
		}
		// pending, stopping: wait for the state to settle.
		if !e.sleep(ctx) {
			return targets.Result{}, fmt.Errorf("instance %s is still %s: %w", id, out, ctx.Err())
		}
	}
}

// noRollback is the rollback of kinds that cannot be undone. It succeeds,
// so an abort does not retry it forever, and says so plainly in the result.
func noRollback(what string) func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
	return func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
		return targets.Result{Output: fmt.Sprintf("NO ROLLBACK: %s cannot be undone; instance %s was %s and gameday has nothing to revert", inj.Kind, inj.Member.ID, what), Nothing: true}, nil
	}
}

// asgTag is the tag EC2 Auto Scaling puts on every instance it manages.
const asgTag = "aws:autoscaling:groupName"

// asgRefusal stops an ec2-stop on an instance of an Auto Scaling group
// before anything happens: the group's health check replaces a stopped
// instance, and the rollback's StartInstances then fails on a terminated
// one, or brings back one more than the group wants.
func asgRefusal(inj targets.Injection) error {
	g := inj.Member.Labels[TagLabelPrefix+asgTag]
	if g == "" || inj.Params["allow_asg"] == "true" {
		return nil
	}
	return fmt.Errorf("instance %s belongs to Auto Scaling group %s, which replaces a stopped instance, and the rollback cannot start a terminated one: suspend the group's HealthCheck and ReplaceUnhealthy processes first (an asg-suspend-processes attack on the group, starting before this one), then set allow_asg: true on this attack", inj.Member.ID, g)
}

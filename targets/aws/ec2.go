package aws

import (
	"context"
	"fmt"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
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

func ec2Plan(op string, rollback string) func(e *Executor, inj targets.Injection) []string {
	return func(e *Executor, inj targets.Injection) []string {
		id := inj.Member.ID
		out := []string{
			fmt.Sprintf("preflight: ec2 %s --instance-ids %s --dry-run", op, id),
			fmt.Sprintf("inject: ec2 %s --instance-ids %s%s", op, id, forceFlag(inj)),
		}
		return append(out, "rollback: "+rollback)
	}
}

func forceFlag(inj targets.Injection) string {
	if inj.Kind == "ec2-stop" && inj.Params["force"] == "true" {
		return " --force"
	}
	return ""
}

var ec2Stop = attack{
	plan: ec2Plan("StopInstances", "ec2 DescribeInstances, StartInstances if stopped, DescribeInstances until running"),
	preflight: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error {
		_, err := s.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{inj.Member.ID}, DryRun: sdkaws.Bool(true), Force: force(inj)})
		return dryRun("StopInstances", err)
	},
	inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
		e.opts.Logf("aws %s: ec2 StopInstances", inj.Member.ID)
		out, err := s.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{inj.Member.ID}, Force: force(*inj)})
		if err != nil {
			return targets.Result{}, fmt.Errorf("ec2 StopInstances: %w", explain(err))
		}
		inj.State["stopped"] = "true"
		return targets.Result{Output: transitions(out.StoppingInstances)}, nil
	},
	rollback: startAndWait,
}

func force(inj targets.Injection) *bool {
	if inj.Params["force"] == "true" {
		return sdkaws.Bool(true)
	}
	return nil
}

func transitions(ch []ec2types.InstanceStateChange) string {
	s := ""
	for _, c := range ch {
		if s != "" {
			s += "; "
		}
		s += sdkaws.ToString(c.InstanceId) + ": " + stateName(c.PreviousState) + " -> " + stateName(c.CurrentState)
	}
	return s
}

func stateName(st *ec2types.InstanceState) string {
	if st == nil {
		return "unknown"
	}
	return string(st.Name)
}

// instanceState asks for one instance's state.
func instanceState(ctx context.Context, s *session, id string) (ec2types.InstanceStateName, error) {
	out, err := s.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return "", fmt.Errorf("ec2 DescribeInstances: %w", explain(err))
	}
	for _, r := range out.Reservations {
		for _, inst := range r.Instances {
			if sdkaws.ToString(inst.InstanceId) == id && inst.State != nil {
				return inst.State.Name, nil
			}
		}
	}
	return "", fmt.Errorf("ec2 DescribeInstances did not return instance %s", id)
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
		st, err := instanceState(ctx, s, id)
		if err != nil {
			return targets.Result{}, err
		}
		switch st {
		case ec2types.InstanceStateNameRunning:
			if started {
				return targets.Result{Output: id + " started and running"}, nil
			}
			return targets.Result{Output: id + " is running"}, nil
		case ec2types.InstanceStateNameStopped:
			if !started {
				e.opts.Logf("aws %s: ec2 StartInstances", id)
				if _, err := s.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
					return targets.Result{}, fmt.Errorf("ec2 StartInstances: %w", explain(err))
				}
				started = true
			}
		case ec2types.InstanceStateNameShuttingDown, ec2types.InstanceStateNameTerminated:
			return targets.Result{}, fmt.Errorf("instance %s is %s: it cannot be started again", id, st)
		}
		// pending, stopping: wait for the state to settle.
		if !e.sleep(ctx) {
			return targets.Result{}, fmt.Errorf("instance %s is still %s: %w", id, st, ctx.Err())
		}
	}
}

// noRollback is the rollback of kinds that cannot be undone. It succeeds,
// so an abort does not retry it forever, and says so plainly in the result.
func noRollback(what string) func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
	return func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
		return targets.Result{Output: fmt.Sprintf("NO ROLLBACK: %s cannot be undone; instance %s was %s and gameday has nothing to revert", inj.Kind, inj.Member.ID, what)}, nil
	}
}

var ec2Reboot = attack{
	plan: ec2Plan("RebootInstances", "none: a reboot cannot be undone"),
	preflight: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error {
		_, err := s.EC2.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{inj.Member.ID}, DryRun: sdkaws.Bool(true)})
		return dryRun("RebootInstances", err)
	},
	inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
		e.opts.Logf("aws %s: ec2 RebootInstances", inj.Member.ID)
		if _, err := s.EC2.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{inj.Member.ID}}); err != nil {
			return targets.Result{}, fmt.Errorf("ec2 RebootInstances: %w", explain(err))
		}
		return targets.Result{Output: inj.Member.ID + ": reboot requested"}, nil
	},
	rollback: noRollback("rebooted"),
}

var ec2Terminate = attack{
	plan: ec2Plan("TerminateInstances", "NONE: a terminated instance is gone for good"),
	preflight: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error {
		_, err := s.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{inj.Member.ID}, DryRun: sdkaws.Bool(true)})
		return dryRun("TerminateInstances", err)
	},
	inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
		e.opts.Logf("aws %s: ec2 TerminateInstances", inj.Member.ID)
		out, err := s.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{inj.Member.ID}})
		if err != nil {
			return targets.Result{}, fmt.Errorf("ec2 TerminateInstances: %w", explain(err))
		}
		return targets.Result{Output: transitions(out.TerminatingInstances) + " (irreversible)"}, nil
	},
	rollback: noRollback("terminated"),
}

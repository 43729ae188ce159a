package aws

import (
	"context"
	"fmt"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Ids per batched EC2 call: DescribeInstances takes up to 1,000; the
// state-changing calls are kept smaller so one failure touches fewer members.
const (
	describeBatch = 1000
	changeBatch   = 100
)

// ec2Call makes one EC2 instance call for id, batched with the same call
// for other instances. The error is the SDK's own, so callers can read its
// code.
func (e *Executor) ec2Call(ctx context.Context, s *session, op string, dry, force bool, id string) (string, error) {
	limit := changeBatch
	if op == "DescribeInstances" {
		limit = describeBatch
	}
	key := batchKey{s: s, op: op, args: fmt.Sprint(dry, force)}
	r := e.batch.do(ctx, key, limit, id, func(ctx context.Context, ids []string) map[string]batchResult {
		if len(ids) > 1 {
			e.opts.Logf("aws: ec2 %s for %d instances", op, len(ids))
		}
		out, err := ec2Once(ctx, s, op, dry, force, ids)
		if err == nil {
			return out
		}
		if len(ids) == 1 || !perResource(err) {
			return all(ids, batchResult{err: err})
		}
		// One bad id fails the whole call: ask again one by one, so only
		// the members it concerns fail.
		return each(ids, func(id string) batchResult {
			out, err := ec2Once(ctx, s, op, dry, force, []string{id})
			if err != nil {
				return batchResult{err: err}
			}
			return out[id]
		})
	})
	return r.out, r.err
}

// perResource says whether a failed batched call may have failed because
// of some of its ids only. Throttling, DryRun answers and transport errors
// concern them all.
func perResource(err error) bool {
	switch apiCode(err) {
	case "", "DryRunOperation", "RequestLimitExceeded", "Throttling", "ThrottlingException", "AuthFailure", "SignatureDoesNotMatch":
		return false
	}
	return true
}

// ec2Once makes one call for ids and splits the answer by instance.
func ec2Once(ctx context.Context, s *session, op string, dry, force bool, ids []string) (map[string]batchResult, error) {
	var changes []ec2types.InstanceStateChange
	var dryRun *bool
	if dry {
		dryRun = sdkaws.Bool(true)
	}
	switch op {
	case "DescribeInstances":
		out, err := s.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
		if err != nil {
			return nil, err
		}
		res := map[string]batchResult{}
		for _, r := range out.Reservations {
			for _, inst := range r.Instances {
				if inst.State != nil {
					res[sdkaws.ToString(inst.InstanceId)] = batchResult{out: string(inst.State.Name)}
				}
			}
		}
		for _, id := range ids {
			if _, ok := res[id]; !ok {
				res[id] = batchResult{err: fmt.Errorf("ec2 DescribeInstances did not return instance %s", id)}
			}
		}
		return res, nil
	case "StopInstances":
		in := &ec2.StopInstancesInput{InstanceIds: ids, DryRun: dryRun}
		if force {
			in.Force = sdkaws.Bool(true)
		}
		out, err := s.EC2.StopInstances(ctx, in)
		if err != nil {
			return nil, err
		}
		changes = out.StoppingInstances
	case "StartInstances":
		out, err := s.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: ids, DryRun: dryRun})
		if err != nil {
			return nil, err
		}
		changes = out.StartingInstances
	case "TerminateInstances":
		out, err := s.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids, DryRun: dryRun})
		if err != nil {
			return nil, err
		}
		changes = out.TerminatingInstances
	case "RebootInstances":
		// A reboot is not idempotent: a retry of a request whose answer was
		// lost reboots again. It cannot be taken back, so it is said.
		tries := 0
		if _, err := s.EC2.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: ids, DryRun: dryRun},
			func(o *ec2.Options) { o.APIOptions = append(o.APIOptions, attempts(&tries)) }); err != nil {
			return nil, err
		}
		said := "reboot requested"
		if tries > 1 {
			said = fmt.Sprintf("reboot requested %d times (an answer was lost and the SDK sent the request again): the instance may have rebooted more than once", tries)
		}
		return all(ids, batchResult{out: said}), nil
	default:
		return nil, fmt.Errorf("ec2 %s is not an instance call gameday makes", op)
	}
	res := map[string]batchResult{}
	for _, id := range ids {
		res[id] = batchResult{out: "requested"}
	}
	for _, c := range changes {
		id := sdkaws.ToString(c.InstanceId)
		res[id] = batchResult{out: stateName(c.PreviousState) + " -> " + stateName(c.CurrentState)}
	}
	return res, nil
}

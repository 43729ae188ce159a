package aws

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/ssh"
)

// shellDocument is the SSM document that runs shell commands on Linux.
const shellDocument = "AWS-RunShellScript"

// outputLimit bounds the command output kept for the journal; SSM itself
// returns at most 24,000 characters.
const outputLimit = 16 << 10

// ssmOwn are ssm-command's own params; the rest belong to the kind it runs.
var ssmOwn = []string{"attack", "max_concurrency", "max_errors"}

// ssmScripts builds the scripts of the Linux (or lab) kind an ssm-command
// runs, with the ssh executor's builders: the same script, the same dead
// man's switch on the host, carried by Run Command instead of SSH. The
// agent runs them as root, so no sudo.
func (e *Executor) ssmScripts(inj targets.Injection) (pre, in, rb string, err error) {
	nested := inj
	nested.Kind = inj.Params["attack"]
	nested.Params = maps.Clone(inj.Params)
	for _, k := range ssmOwn {
		delete(nested.Params, k)
	}
	nested.Member = targets.Member{Target: inj.Member.Target, ID: inj.Member.ID}
	return ssh.Scripts(nested, e.opts.Grace)
}

var ssmCommand = attack{
	plan: func(e *Executor, inj targets.Injection) []string {
		pre, in, rb, err := e.ssmScripts(inj)
		if err != nil {
			return []string{"cannot plan: " + err.Error()}
		}
		send := func(step string) string {
			mc, me := ssmLimits(inj, step)
			return fmt.Sprintf("ssm SendCommand %s --instance-ids %s --max-concurrency %s --max-errors %s, then ListCommandInvocations until done: ",
				shellDocument, inj.Member.ID, mc, me)
		}
		var out []string
		if pre != "" {
			out = append(out, "preflight: "+send("preflight")+pre)
		}
		out = append(out, "inject: "+send("inject")+in, "abort during inject: ssm CancelCommand --command-id (the inject's) --instance-ids "+inj.Member.ID)
		if rb == "" {
			return append(out, "rollback: none: "+inj.Params["attack"]+" has nothing to revert")
		}
		return append(out, "rollback: ssm CancelCommand of the inject if it still runs, then "+send("rollback")+rb)
	},
	preflight: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error {
		pre, _, _, err := e.ssmScripts(inj)
		if err != nil || pre == "" {
			// Lab kinds have no preflight script: the endpoint knowing the
			// instance is checked by the inject itself.
			return err
		}
		_, _, err = e.runCommand(ctx, s, inj, "preflight", pre)
		return err
	},
	inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
		_, in, _, err := e.ssmScripts(*inj)
		if err != nil {
			return targets.Result{}, err
		}
		res, id, err := e.runCommand(ctx, s, *inj, "inject", in)
		if id != "" {
			inj.State["command_id"] = id
		}
		if err != nil && id != "" && ctx.Err() != nil {
			// An abort while the script still runs: stop it on the
			// instance, so it cannot go on applying after the rollback.
			if cerr := e.cancelCommand(ctx, s, id, inj.Member.ID); cerr != nil {
				err = fmt.Errorf("%w; %v", err, cerr)
			} else {
				err = fmt.Errorf("%w; ssm CancelCommand %s sent", err, id)
			}
		}
		if err == nil {
			// The script armed the host's switch just before it answered.
			res.Expires = e.now().Add(inj.Duration + e.opts.Grace).UTC()
			inj.State["switch_at"] = res.Expires.Format(time.RFC3339)
		}
		return res, err
	},
	rollback: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
		_, _, rb, err := e.ssmScripts(inj)
		if err != nil {
			return targets.Result{}, err
		}
		var note string
		if id := inj.State["command_id"]; id != "" {
			// The inject may still be running (recover after a crash, an
			// abort that timed out): stop it before reverting, or it could
			// apply after the rollback.
			if cerr := e.cancelCommand(ctx, s, id, inj.Member.ID); cerr != nil {
				note = cerr.Error()
			}
		}
		if rb == "" {
			return targets.Result{Output: join("nothing to roll back", note), Nothing: true}, nil
		}
		res, _, err := e.runCommand(ctx, s, inj, "rollback", rb)
		res.Gone = err == nil && ssh.FaultGone(res.Output)
		res.Output = join(res.Output, note)
		if err != nil {
			err = fmt.Errorf("%w (on the instance, %s)", err, ssh.SwitchFate(res.Output, inj))
		}
		return res, err
	},
}

// detail is the lines a failed script printed, for an error message.
func detail(out string) string {
	ps := ssh.ScriptMessages(out)
	if len(ps) == 0 {
		return ""
	}
	return ": " + strings.Join(ps, "; ")
}

// ssmBatch is the most instances one SendCommand takes.
const ssmBatch = 50

// ssmLimits are the MaxConcurrency and MaxErrors of a step's command. Only
// the inject takes the attack's: a preflight changes nothing, and a
// rollback must reach every instance at once whatever fails elsewhere,
// where the attack's MaxErrors (0 by default) would have SSM cancel the
// rest after the first failure.
func ssmLimits(inj targets.Injection, step string) (concurrency, errs string) {
	if step == "inject" {
		return inj.Params["max_concurrency"], inj.Params["max_errors"]
	}
	return "100%", "100%"
}

// cancelStop bounds a CancelCommand sent while aborting, when the
// caller's own context has already ended.
const cancelStop = 30 * time.Second

// cancelCommand asks SSM to stop command cmd on instance id. It is sent
// even when ctx has ended (an abort), within its own bound. A command that
// already ended is not an error. Members cancelling the same command at the
// same time (every rollback of a fleet's inject) share one CancelCommand of
// up to 50 instances, as SendCommand took them.
func (e *Executor) cancelCommand(ctx context.Context, s *session, cmd, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelStop)
	defer cancel()
	r := e.batch.do(ctx, batchKey{s: s, op: "ssm:CancelCommand", args: cmd}, ssmBatch, id, func(ctx context.Context, ids []string) map[string]batchResult {
		cancel := func(ids []string) batchResult {
			e.opts.Logf("aws: ssm CancelCommand %s on %d instances", cmd, len(ids))
			_, err := s.SSM.CancelCommand(ctx, &ssm.CancelCommandInput{CommandId: sdkaws.String(cmd), InstanceIds: ids})
			return batchResult{err: err}
		}
		r := cancel(ids)
		if code := apiCode(r.err); len(ids) > 1 && (code == "InvalidInstanceId" || code == "DuplicateInstanceId") {
			// One instance the command does not know refuses the whole
			// call: the others must still be stopped, one by one.
			return each(ids, func(id string) batchResult { return cancel([]string{id}) })
		}
		return all(ids, r)
	})
	switch apiCode(r.err) {
	case "", "InvalidCommandId", "InvalidInstanceId", "DuplicateInstanceId":
		// Unknown or finished there: nothing left to stop.
		return nil
	}
	return fmt.Errorf("ssm CancelCommand %s on %s: %w", cmd, id, explain(r.err))
}

// join puts the non-empty lines together.
func join(lines ...string) string {
	var out []string
	for _, l := range lines {
		if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// runCommand sends one script to the member through Run Command and polls
// its invocation until it ends. Members sending the same script at the
// same time share one SendCommand (up to 50 instances, with the step's
// MaxConcurrency and MaxErrors applying across them) and one
// ListCommandInvocations per poll. It returns the command id as soon as
// SSM gave one, even when the command then failed.
func (e *Executor) runCommand(ctx context.Context, s *session, inj targets.Injection, step, script string) (targets.Result, string, error) {
	ctx, cancel := e.bound(ctx)
	defer cancel()
	id := inj.Member.ID
	wait := int(e.opts.Wait / time.Second)
	comment := fmt.Sprintf("gameday %s %s %s", inj.RunID, inj.Attack, step)
	if len(comment) > 100 {
		comment = comment[:100]
	}
	mc, me := ssmLimits(inj, step)
	send := func(ctx context.Context, ids []string) (string, error) {
		e.opts.Logf("aws: ssm SendCommand (%s) to %d instances", step, len(ids))
		out, err := s.SSM.SendCommand(ctx, &ssm.SendCommandInput{
			DocumentName: sdkaws.String(shellDocument),
			InstanceIds:  ids,
			Parameters: map[string][]string{
				"commands":         {script},
				"executionTimeout": {strconv.Itoa(max(wait, 60))},
			},
			Comment:        sdkaws.String(comment),
			MaxConcurrency: nonEmpty(mc),
			MaxErrors:      nonEmpty(me),
			TimeoutSeconds: sdkaws.Int32(int32(max(wait, 30))),
		})
		if err != nil {
			return "", err
		}
		if out.Command == nil || sdkaws.ToString(out.Command.CommandId) == "" {
			return "", fmt.Errorf("ssm SendCommand returned no command id")
		}
		return sdkaws.ToString(out.Command.CommandId), nil
	}
	key := batchKey{s: s, op: "ssm:SendCommand", args: strings.Join([]string{step, mc, me, comment, script}, "\x00")}
	sent := e.batch.do(ctx, key, ssmBatch, id, func(ctx context.Context, ids []string) map[string]batchResult {
		cmd, err := send(ctx, ids)
		if err != nil && len(ids) > 1 && perResource(err) {
			// One instance SSM will not take fails them all: send one by one.
			return each(ids, func(id string) batchResult {
				cmd, err := send(ctx, []string{id})
				return batchResult{out: cmd, err: err}
			})
		}
		return all(ids, batchResult{out: cmd, err: err})
	})
	if sent.err != nil {
		return targets.Result{}, "", fmt.Errorf("ssm SendCommand: %w", explain(sent.err))
	}
	cmd := sent.out
	for {
		r := e.batch.do(ctx, batchKey{s: s, op: "ssm:ListCommandInvocations", args: cmd}, ssmBatch, id, func(ctx context.Context, ids []string) map[string]batchResult {
			invs, err := listInvocations(ctx, s, cmd)
			if err != nil {
				return all(ids, batchResult{err: err})
			}
			out := map[string]batchResult{}
			for _, id := range ids {
				if inv, ok := invs[id]; ok {
					out[id] = batchResult{v: inv}
				} else {
					out[id] = batchResult{} // not listed yet: SSM is still fanning out
				}
			}
			return out
		})
		if r.err != nil {
			return targets.Result{}, cmd, fmt.Errorf("ssm ListCommandInvocations %s: %w", cmd, explain(r.err))
		}
		if inv, ok := r.v.(ssmtypes.CommandInvocation); ok {
			var output string
			var code int32
			if len(inv.CommandPlugins) > 0 {
				output, code = sdkaws.ToString(inv.CommandPlugins[0].Output), inv.CommandPlugins[0].ResponseCode
			}
			res := targets.Result{Output: bounded(output)}
			switch inv.Status {
			case ssmtypes.CommandInvocationStatusSuccess:
				return res, cmd, nil
			case ssmtypes.CommandInvocationStatusFailed, ssmtypes.CommandInvocationStatusCancelled, ssmtypes.CommandInvocationStatusTimedOut:
				msg := fmt.Sprintf("ssm command %s %s on %s (%s, exit %d)", cmd, strings.ToLower(string(inv.Status)), id, sdkaws.ToString(inv.StatusDetails), code)
				if d := detail(res.Output); d != "" {
					msg += d
				} else if o := strings.TrimSpace(output); o != "" {
					msg += ": " + lastLine(o)
				}
				return res, cmd, errors.New(msg)
			}
		}
		if !e.sleep(ctx) {
			return targets.Result{}, cmd, fmt.Errorf("ssm command %s on %s did not finish: %w", cmd, id, ctx.Err())
		}
	}
}

// listInvocations reads every invocation of a command, with its output.
func listInvocations(ctx context.Context, s *session, cmd string) (map[string]ssmtypes.CommandInvocation, error) {
	out := map[string]ssmtypes.CommandInvocation{}
	p := ssm.NewListCommandInvocationsPaginator(s.SSM, &ssm.ListCommandInvocationsInput{CommandId: sdkaws.String(cmd), Details: true})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, inv := range page.CommandInvocations {
			out[sdkaws.ToString(inv.InstanceId)] = inv
		}
	}
	return out, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func bounded(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > outputLimit {
		s = s[len(s)-outputLimit:]
	}
	return s
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

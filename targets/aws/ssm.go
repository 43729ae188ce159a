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
		send := fmt.Sprintf("ssm SendCommand %s --instance-ids %s --max-concurrency %s --max-errors %s, then GetCommandInvocation until done: ",
			shellDocument, inj.Member.ID, inj.Params["max_concurrency"], inj.Params["max_errors"])
		var out []string
		if pre != "" {
			out = append(out, "preflight: "+send+pre)
		}
		out = append(out, "inject: "+send+in)
		if rb == "" {
			return append(out, "rollback: none: "+inj.Params["attack"]+" has nothing to revert")
		}
		return append(out, "rollback: "+send+rb)
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
		if err == nil {
			inj.State["switch_at"] = e.now().Add(inj.Duration + e.opts.Grace).UTC().Format(time.RFC3339)
		}
		return res, err
	},
	rollback: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
		_, _, rb, err := e.ssmScripts(inj)
		if err != nil {
			return targets.Result{}, err
		}
		if rb == "" {
			return targets.Result{Output: "nothing to roll back"}, nil
		}
		res, _, err := e.runCommand(ctx, s, inj, "rollback", rb)
		if err != nil {
			err = fmt.Errorf("%w (the dead man's switch on the instance still reverts it at its deadline unless it was cancelled)", err)
		}
		return res, err
	},
}

// detail is the lines a failed script printed, for an error message.
func detail(out string) string {
	var ps []string
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "gameday: "); ok {
			ps = append(ps, rest)
		}
	}
	if len(ps) == 0 {
		return ""
	}
	return ": " + strings.Join(ps, "; ")
}

// runCommand sends one script to the member through Run Command and polls
// its invocation until it ends. It returns the command id as soon as SSM
// gave one, even when the command then failed.
func (e *Executor) runCommand(ctx context.Context, s *session, inj targets.Injection, step, script string) (targets.Result, string, error) {
	ctx, cancel := e.bound(ctx)
	defer cancel()
	id := inj.Member.ID
	wait := int(e.opts.Wait / time.Second)
	comment := fmt.Sprintf("gameday %s %s %s", inj.RunID, inj.Attack, step)
	if len(comment) > 100 {
		comment = comment[:100]
	}
	e.opts.Logf("aws %s: ssm SendCommand (%s)", id, step)
	out, err := s.SSM.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName: sdkaws.String(shellDocument),
		InstanceIds:  []string{id},
		Parameters: map[string][]string{
			"commands":         {script},
			"executionTimeout": {strconv.Itoa(max(wait, 60))},
		},
		Comment:        sdkaws.String(comment),
		MaxConcurrency: nonEmpty(inj.Params["max_concurrency"]),
		MaxErrors:      nonEmpty(inj.Params["max_errors"]),
		TimeoutSeconds: sdkaws.Int32(int32(max(wait, 30))),
	})
	if err != nil {
		return targets.Result{}, "", fmt.Errorf("ssm SendCommand: %w", explain(err))
	}
	if out.Command == nil || sdkaws.ToString(out.Command.CommandId) == "" {
		return targets.Result{}, "", fmt.Errorf("ssm SendCommand returned no command id")
	}
	cmd := sdkaws.ToString(out.Command.CommandId)
	for {
		inv, err := s.SSM.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: sdkaws.String(cmd), InstanceId: sdkaws.String(id)})
		var missing *ssmtypes.InvocationDoesNotExist
		switch {
		case errors.As(err, &missing):
			// Invocations appear a moment after the command; keep asking.
		case err != nil:
			return targets.Result{}, cmd, fmt.Errorf("ssm GetCommandInvocation %s: %w", cmd, explain(err))
		default:
			res := targets.Result{Output: bounded(sdkaws.ToString(inv.StandardOutputContent))}
			switch inv.Status {
			case ssmtypes.CommandInvocationStatusSuccess:
				return res, cmd, nil
			case ssmtypes.CommandInvocationStatusFailed, ssmtypes.CommandInvocationStatusCancelled, ssmtypes.CommandInvocationStatusTimedOut:
				msg := fmt.Sprintf("ssm command %s %s on %s (%s, exit %d)", cmd, strings.ToLower(string(inv.Status)), id, sdkaws.ToString(inv.StatusDetails), inv.ResponseCode)
				if d := detail(res.Output); d != "" {
					msg += d
				} else if se := strings.TrimSpace(sdkaws.ToString(inv.StandardErrorContent)); se != "" {
					msg += ": " + lastLine(se)
				}
				return res, cmd, errors.New(msg)
			}
		}
		if !e.sleep(ctx) {
			return targets.Result{}, cmd, fmt.Errorf("ssm command %s on %s did not finish: %w", cmd, id, ctx.Err())
		}
	}
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

package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/fis"
	fistypes "github.com/aws/aws-sdk-go-v2/service/fis/types"

	"github.com/gameday/gameday/targets"
)

// Under engine: fis an attack is compiled into an FIS experiment template
// of its own, one per member, and AWS carries it out: the fault ends at its
// duration on AWS's side (startInstancesAfterDuration, an action's
// duration), whether or not gameday is still running, and the alarms the
// runbook names stop it. gameday starts the experiment, follows it, stops
// it on abort and deletes the template afterwards.

// Member labels that carry the target's FIS settings to the injection, so
// that a journal alone can rebuild the template or find it again.
const (
	LabelFISRole    = "fis_role"
	LabelStopAlarms = "stop_alarms"
)

// fisTargetKey is the template target an action of each resource type takes.
var fisTargetKey = map[string]string{"ec2:instance": "Instances", "lambda:function": "Functions"}

// isoDuration writes d as the ISO 8601 duration FIS parameters take, in
// whole seconds rounded up so that AWS never ends a fault early.
func isoDuration(d time.Duration) string {
	return "PT" + strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10) + "S"
}

// memberARN is the member's ARN as FIS targets name it.
func memberARN(m targets.Member) string {
	if a := m.Labels[LabelARN]; a != "" {
		return a
	}
	return fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", m.Labels[LabelRegion], m.Labels[LabelAccount], m.ID)
}

// fisActionsFor are the FIS actions an injection compiles to.
func (e *Executor) fisActionsFor(inj targets.Injection) (map[string]fistypes.CreateExperimentTemplateActionInput, error) {
	dur := isoDuration(inj.Duration)
	key := fisTargetKey[inj.Member.Labels[LabelResource]]
	if key == "" {
		key = "Instances"
	}
	on := map[string]string{key: key}
	action := func(id string, params map[string]string) fistypes.CreateExperimentTemplateActionInput {
		return fistypes.CreateExperimentTemplateActionInput{ActionId: sdkaws.String(id), Parameters: params, Targets: on}
	}
	switch inj.Kind {
	case "ec2-stop":
		return map[string]fistypes.CreateExperimentTemplateActionInput{
			"stop": action("aws:ec2:stop-instances", map[string]string{"startInstancesAfterDuration": dur}),
		}, nil
	case "ssm-command":
		// The same script as engine gameday, dead man's switch included:
		// FIS cancels the command at the duration, the switch reverts the
		// host.
		_, script, _, err := e.ssmScripts(inj)
		if err != nil {
			return nil, err
		}
		doc, err := json.Marshal(map[string][]string{"commands": {script}})
		if err != nil {
			return nil, err
		}
		return map[string]fistypes.CreateExperimentTemplateActionInput{
			"run": action("aws:ssm:send-command", map[string]string{
				"documentArn":        fmt.Sprintf("arn:aws:ssm:%s::document/%s", inj.Member.Labels[LabelRegion], shellDocument),
				"documentParameters": string(doc),
				"duration":           dur,
			}),
		}, nil
	case "lambda-fault":
		out := map[string]fistypes.CreateExperimentTemplateActionInput{}
		if r := inj.Params["error_rate"]; r != "" {
			out["fail"] = action("aws:lambda:invocation-error", map[string]string{"duration": dur, "invocationPercentage": strings.TrimSuffix(r, "%"), "preventExecution": "true"})
		}
		if l := inj.Params["latency"]; l != "" {
			d, err := time.ParseDuration(l)
			if err != nil {
				return nil, fmt.Errorf("latency %q: %w", l, err)
			}
			out["delay"] = action("aws:lambda:invocation-add-delay", map[string]string{"duration": dur, "invocationPercentage": "100", "startupDelayMilliseconds": strconv.FormatInt(d.Milliseconds(), 10)})
		}
		return out, nil
	}
	return nil, fmt.Errorf("kind %s has no FIS action; use engine: gameday", inj.Kind)
}

// compile is the experiment template of one injection.
func (e *Executor) compile(inj targets.Injection) (*fis.CreateExperimentTemplateInput, error) {
	m := inj.Member
	role := m.Labels[LabelFISRole]
	if role == "" {
		return nil, fmt.Errorf("engine fis: target %s names no fis_role for FIS to assume", m.Target)
	}
	actions, err := e.fisActionsFor(inj)
	if err != nil {
		return nil, err
	}
	key := fisTargetKey[m.Labels[LabelResource]]
	if key == "" {
		key = "Instances"
	}
	stops := []fistypes.CreateExperimentTemplateStopConditionInput{{Source: sdkaws.String("none")}}
	if a := m.Labels[LabelStopAlarms]; a != "" {
		stops = nil
		for _, arn := range strings.Split(a, ",") {
			stops = append(stops, fistypes.CreateExperimentTemplateStopConditionInput{Source: sdkaws.String("aws:cloudwatch:alarm"), Value: sdkaws.String(arn)})
		}
	}
	return &fis.CreateExperimentTemplateInput{
		ClientToken:    sdkaws.String(templateToken(inj)),
		Description:    sdkaws.String(fmt.Sprintf("gameday run %s, attack %s (%s) on %s", inj.RunID, inj.Attack, inj.Kind, m.ID)),
		RoleArn:        sdkaws.String(role),
		StopConditions: stops,
		Targets: map[string]fistypes.CreateExperimentTemplateTargetInput{
			key: {ResourceType: sdkaws.String("aws:" + m.Labels[LabelResource]), ResourceArns: []string{memberARN(m)}, SelectionMode: sdkaws.String("ALL")},
		},
		Actions: actions,
		Tags:    fisTags(inj),
	}, nil
}

func fisTags(inj targets.Injection) map[string]string {
	return map[string]string{TagRunID: inj.RunID, TagAttack: inj.Attack, TagMember: inj.Member.ID}
}

// templateToken makes CreateExperimentTemplate idempotent per injection.
func templateToken(inj targets.Injection) string {
	h := fnv.New64a()
	h.Write([]byte(inj.RunID + "\x00" + inj.Attack + "\x00" + inj.Member.ID + "\x00template"))
	return fmt.Sprintf("gameday-t-%016x", h.Sum64())
}

func actionIDs(in *fis.CreateExperimentTemplateInput) string {
	var ids []string
	for _, a := range in.Actions {
		ids = append(ids, sdkaws.ToString(a.ActionId))
	}
	return strings.Join(ids, ", ")
}

var fisEngine = attack{
	plan: func(e *Executor, inj targets.Injection) []string {
		in, err := e.compile(inj)
		if err != nil {
			return []string{"cannot plan: " + err.Error()}
		}
		stops := "none"
		if a := inj.Member.Labels[LabelStopAlarms]; a != "" {
			stops = "CloudWatch alarms " + a
		}
		return []string{
			"preflight: fis ListExperimentTemplates (permission)",
			fmt.Sprintf("inject: fis CreateExperimentTemplate (%s on %s for %s, role %s, stop conditions: %s, tags %s=%s,%s=%s), fis StartExperiment, then GetExperiment until running",
				actionIDs(in), memberARN(inj.Member), isoDuration(inj.Duration), sdkaws.ToString(in.RoleArn), stops, TagRunID, inj.RunID, TagAttack, inj.Attack),
			"AWS ends the experiment at the duration by itself, with or without gameday",
			"rollback: fis StopExperiment unless it has ended, GetExperiment until it has, " + fisUndoPlan[inj.Kind] + "fis DeleteExperimentTemplate",
		}
	},
	preflight: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error {
		if inj.Kind == "ec2-stop" {
			if err := asgRefusal(inj); err != nil {
				return err
			}
		}
		if _, err := e.compile(inj); err != nil {
			return err
		}
		if _, err := s.FIS.ListExperimentTemplates(ctx, &fis.ListExperimentTemplatesInput{MaxResults: sdkaws.Int32(1)}); err != nil {
			return fmt.Errorf("fis ListExperimentTemplates: %w", explain(err))
		}
		return nil
	},
	inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
		in, err := e.compile(*inj)
		if err != nil {
			return targets.Result{}, err
		}
		e.opts.Logf("aws %s: fis CreateExperimentTemplate (%s)", inj.Member.ID, actionIDs(in))
		made, err := s.FIS.CreateExperimentTemplate(ctx, in)
		if err != nil {
			return targets.Result{}, fmt.Errorf("fis CreateExperimentTemplate: %w", explain(err))
		}
		tid := ""
		if made.ExperimentTemplate != nil {
			tid = sdkaws.ToString(made.ExperimentTemplate.Id)
		}
		if tid == "" {
			return targets.Result{}, fmt.Errorf("fis CreateExperimentTemplate returned no template id")
		}
		inj.State["template_id"] = tid
		x, err := e.startExperiment(ctx, s, inj, tid, fisTags(*inj))
		if err != nil {
			return targets.Result{}, err
		}
		id := sdkaws.ToString(x.Id)
		// AWS's own bound, counted from now as the experiment has just
		// started.
		expires := e.now().Add(inj.Duration).UTC()
		st, err := e.untilRunning(ctx, s, x, "of template "+tid)
		if err != nil {
			return targets.Result{}, err
		}
		e.follow(s, *inj, id, string(st))
		return targets.Result{
			Output:  fmt.Sprintf("experiment %s of template %s (%s) is %s; AWS ends it by %s", id, tid, actionIDs(in), st, expires.Format(time.RFC3339)),
			Expires: expires,
		}, nil
	},
	rollback: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
		ctx, cancel := e.bound(ctx)
		defer cancel()
		var notes []string
		id := inj.State["experiment_id"]
		if id == "" {
			found, err := findExperiment(ctx, s, inj, "")
			if err != nil {
				return targets.Result{}, err
			}
			id = found
		}
		if id == "" {
			notes = append(notes, "no experiment of this attack was started")
		} else {
			e.unfollow(id)
			res, err := e.stopExperiment(ctx, s, inj.Member.ID, id)
			if err != nil {
				return res, err
			}
			notes = append(notes, res.Output)
		}
		// What FIS undoes, gameday confirms: an instance FIS stopped is
		// running again, a host's script is reverted.
		if undo := fisUndo[inj.Kind]; undo != nil && id != "" {
			res, err := undo(ctx, e, s, inj)
			if err != nil {
				return targets.Result{Output: strings.Join(notes, "; ")}, err
			}
			notes = append(notes, res.Output)
		}
		gone, err := e.deleteTemplates(ctx, s, inj)
		if err != nil {
			return targets.Result{Output: strings.Join(notes, "; ")}, err
		}
		return targets.Result{Output: strings.Join(append(notes, gone), "; ")}, nil
	},
}

// fisUndo is what gameday checks or reverts itself once the experiment
// has ended, per kind, and fisUndoPlan says it for --dry-run.
var (
	fisUndo = map[string]func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error){
		"ec2-stop":    startAndWait,
		"ssm-command": ssmCommand.rollback,
	}
	fisUndoPlan = map[string]string{
		"ec2-stop":    "ec2 DescribeInstances until running (StartInstances if FIS did not), ",
		"ssm-command": "the kind's rollback script through ssm SendCommand, ",
	}
)

// deleteTemplates deletes the injection's template: the journalled one, or
// those tagged with its run, attack and member when the journal lost it.
func (e *Executor) deleteTemplates(ctx context.Context, s *session, inj targets.Injection) (string, error) {
	ids := []string{}
	if tid := inj.State["template_id"]; tid != "" {
		ids = append(ids, tid)
	} else {
		in := &fis.ListExperimentTemplatesInput{}
		for pages := 0; ; pages++ {
			if pages == 1000 {
				return "", fmt.Errorf("fis ListExperimentTemplates: more than 1000 pages")
			}
			out, err := s.FIS.ListExperimentTemplates(ctx, in)
			if err != nil {
				return "", fmt.Errorf("fis ListExperimentTemplates (looking for the templates of run %s): %w", inj.RunID, explain(err))
			}
			for _, t := range out.ExperimentTemplates {
				if ours(t.Tags, inj) {
					ids = append(ids, sdkaws.ToString(t.Id))
				}
			}
			if sdkaws.ToString(out.NextToken) == "" {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	if len(ids) == 0 {
		return "no template to delete", nil
	}
	for _, tid := range ids {
		e.opts.Logf("aws %s: fis DeleteExperimentTemplate %s", inj.Member.ID, tid)
		_, err := s.FIS.DeleteExperimentTemplate(ctx, &fis.DeleteExperimentTemplateInput{Id: sdkaws.String(tid)})
		if err != nil && apiCode(err) != "ResourceNotFoundException" {
			return "", fmt.Errorf("fis DeleteExperimentTemplate %s: %w", tid, explain(err))
		}
	}
	return "template " + strings.Join(ids, ", ") + " deleted", nil
}

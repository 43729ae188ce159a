package aws

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/fis"
	fistypes "github.com/aws/aws-sdk-go-v2/service/fis/types"

	"github.com/gameday/gameday/targets"
)

// Tags gameday puts on what it starts, so an experiment can be found again
// from the journal alone and anyone in the console sees whose it is.
const (
	TagRunID  = "gameday:run-id"
	TagAttack = "gameday:attack"
	// TagMember names the member an experiment template of engine: fis
	// acts on, as each member gets its own.
	TagMember = "gameday:member"
)

// template is the experiment template an injection starts: the param when
// given, else the member.
func template(inj targets.Injection) string {
	if t := inj.Params["template_id"]; t != "" {
		return t
	}
	return inj.Member.ID
}

// clientToken makes StartExperiment idempotent per injection: an inject
// retried after a lost answer starts no second experiment.
func clientToken(inj targets.Injection) string {
	h := fnv.New64a()
	h.Write([]byte(inj.RunID + "\x00" + inj.Attack + "\x00" + inj.Member.ID))
	return fmt.Sprintf("gameday-%016x", h.Sum64())
}

func terminal(st fistypes.ExperimentStatus) bool {
	switch st {
	case fistypes.ExperimentStatusCompleted, fistypes.ExperimentStatusStopped, fistypes.ExperimentStatusFailed, fistypes.ExperimentStatusCancelled:
		return true
	}
	return false
}

func expState(x *fistypes.Experiment) (fistypes.ExperimentStatus, string) {
	if x == nil || x.State == nil {
		return "", ""
	}
	return x.State.Status, sdkaws.ToString(x.State.Reason)
}

var fisExperiment = attack{
	plan: func(e *Executor, inj targets.Injection) []string {
		t := template(inj)
		return []string{
			"preflight: fis GetExperimentTemplate --id " + t,
			fmt.Sprintf("inject: fis StartExperiment --experiment-template-id %s --tags %s=%s,%s=%s, then GetExperiment until running", t, TagRunID, inj.RunID, TagAttack, inj.Attack),
			"rollback: fis StopExperiment --id EXPERIMENT (found by its tags when the journal has no id), then GetExperiment until stopped",
		}
	},
	preflight: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error {
		if _, err := s.FIS.GetExperimentTemplate(ctx, &fis.GetExperimentTemplateInput{Id: sdkaws.String(template(inj))}); err != nil {
			return fmt.Errorf("fis GetExperimentTemplate %s: %w", template(inj), explain(err))
		}
		return nil
	},
	inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
		t := template(*inj)
		x, err := e.startExperiment(ctx, s, inj, t, map[string]string{TagRunID: inj.RunID, TagAttack: inj.Attack})
		if err != nil {
			return targets.Result{}, err
		}
		id := sdkaws.ToString(x.Id)
		st, err := e.untilRunning(ctx, s, x, "of template "+t)
		if err != nil {
			return targets.Result{}, err
		}
		e.follow(s, *inj, id, string(st))
		return targets.Result{Output: fmt.Sprintf("experiment %s of template %s is %s", id, t, st)}, nil
	},
	rollback: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
		ctx, cancel := e.bound(ctx)
		defer cancel()
		id := inj.State["experiment_id"]
		if id == "" {
			found, err := findExperiment(ctx, s, inj, template(inj))
			if err != nil {
				return targets.Result{}, err
			}
			if found == "" {
				return targets.Result{Output: "no experiment of this attack was started"}, nil
			}
			id = found
		}
		e.unfollow(id)
		return e.stopExperiment(ctx, s, inj.Member.ID, id)
	},
}

// startExperiment starts an experiment of template t for inj, once per
// injection whatever the retries, and records its id in inj.State.
func (e *Executor) startExperiment(ctx context.Context, s *session, inj *targets.Injection, t string, tags map[string]string) (*fistypes.Experiment, error) {
	e.opts.Logf("aws %s: fis StartExperiment %s", inj.Member.ID, t)
	out, err := s.FIS.StartExperiment(ctx, &fis.StartExperimentInput{
		ExperimentTemplateId: sdkaws.String(t),
		ClientToken:          sdkaws.String(clientToken(*inj)),
		Tags:                 tags,
	})
	if err != nil {
		return nil, fmt.Errorf("fis StartExperiment %s: %w", t, explain(err))
	}
	if out.Experiment == nil || sdkaws.ToString(out.Experiment.Id) == "" {
		return nil, fmt.Errorf("fis StartExperiment %s returned no experiment id", t)
	}
	inj.State["experiment_id"] = sdkaws.ToString(out.Experiment.Id)
	return out.Experiment, nil
}

// untilRunning follows a started experiment until it runs: a template
// whose targets match nothing or whose role is wrong fails here, and that
// is the inject's result, not a surprise at rollback. of says which
// experiment, for errors.
func (e *Executor) untilRunning(ctx context.Context, s *session, x *fistypes.Experiment, of string) (fistypes.ExperimentStatus, error) {
	ctx, cancel := e.bound(ctx)
	defer cancel()
	id := sdkaws.ToString(x.Id)
	for {
		st, why := expState(x)
		switch {
		case st == fistypes.ExperimentStatusRunning || st == fistypes.ExperimentStatusCompleted:
			return st, nil
		case terminal(st) || st == fistypes.ExperimentStatusStopping:
			return st, fmt.Errorf("experiment %s %s is %s: %s", id, of, st, why)
		}
		if !e.sleep(ctx) {
			return st, fmt.Errorf("experiment %s %s is still %s: %w", id, of, st, ctx.Err())
		}
		got, err := s.FIS.GetExperiment(ctx, &fis.GetExperimentInput{Id: sdkaws.String(id)})
		if err != nil {
			return st, fmt.Errorf("fis GetExperiment %s: %w", id, explain(err))
		}
		x = got.Experiment
	}
}

// stopExperiment stops experiment id unless it has ended, and waits until
// it has: the result names the state it ended in and why.
func (e *Executor) stopExperiment(ctx context.Context, s *session, member, id string) (targets.Result, error) {
	stopped := false
	for {
		got, err := s.FIS.GetExperiment(ctx, &fis.GetExperimentInput{Id: sdkaws.String(id)})
		if err != nil {
			return targets.Result{}, fmt.Errorf("fis GetExperiment %s: %w", id, explain(err))
		}
		st, why := expState(got.Experiment)
		if terminal(st) {
			msg := fmt.Sprintf("experiment %s is %s", id, st)
			if why = strings.TrimSuffix(why, "."); why != "" {
				msg += ": " + why // a clause among the rollback's others
			}
			return targets.Result{Output: msg}, nil
		}
		if !stopped && st != fistypes.ExperimentStatusStopping {
			e.opts.Logf("aws %s: fis StopExperiment %s", member, id)
			if _, err := s.FIS.StopExperiment(ctx, &fis.StopExperimentInput{Id: sdkaws.String(id)}); err != nil {
				return targets.Result{}, fmt.Errorf("fis StopExperiment %s: %w", id, explain(err))
			}
			stopped = true
		}
		if !e.sleep(ctx) {
			return targets.Result{}, fmt.Errorf("experiment %s is still %s: %w", id, st, ctx.Err())
		}
	}
}

// findExperiment looks for the experiment an inject started when the
// journal lost its id: the one tagged with this run, attack and (when the
// experiment names one) member, among those of templateID, or of every
// template when it is empty.
func findExperiment(ctx context.Context, s *session, inj targets.Injection, templateID string) (string, error) {
	in := &fis.ListExperimentsInput{}
	if templateID != "" {
		in.ExperimentTemplateId = sdkaws.String(templateID)
	}
	for pages := 0; pages < 1000; pages++ {
		out, err := s.FIS.ListExperiments(ctx, in)
		if err != nil {
			return "", fmt.Errorf("fis ListExperiments (looking for the experiment of run %s): %w", inj.RunID, explain(err))
		}
		for _, x := range out.Experiments {
			if ours(x.Tags, inj) {
				return sdkaws.ToString(x.Id), nil
			}
		}
		if sdkaws.ToString(out.NextToken) == "" {
			return "", nil
		}
		in.NextToken = out.NextToken
	}
	return "", fmt.Errorf("fis ListExperiments: more than 1000 pages")
}

// ours says whether tags mark something gameday made for inj.
func ours(tags map[string]string, inj targets.Injection) bool {
	if m, ok := tags[TagMember]; ok && m != inj.Member.ID {
		return false
	}
	return tags[TagRunID] == inj.RunID && tags[TagAttack] == inj.Attack
}

package aws

import (
	"context"
	"fmt"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/fis"
	fistypes "github.com/aws/aws-sdk-go-v2/service/fis/types"

	"github.com/gameday/gameday/targets"
)

// follow watches an FIS experiment from its inject until it ends, its
// rollback begins or the executor closes, and tells Options.Follow each
// status it enters, and Options.Ended the status it ends in: AWS may end it
// (its duration, a stop condition, a failed action) while gameday only
// watches.
func (e *Executor) follow(s *session, inj targets.Injection, id, status string) {
	if e.opts.Follow == nil && e.opts.Ended == nil {
		return
	}
	if terminal(fistypes.ExperimentStatus(status)) {
		// It ended while the inject waited for it to run: a template
		// whose actions are shorter than the attack.
		if e.opts.Ended != nil {
			e.opts.Ended(inj, endedAs(id, fistypes.ExperimentStatus(status), ""))
		}
		return
	}
	ctx, cancel := context.WithCancel(e.life)
	if old, loaded := e.following.Swap(id, cancel); loaded {
		old.(context.CancelFunc)()
	}
	e.followers.Add(1)
	go func() {
		defer e.followers.Done()
		defer e.unfollow(id)
		targets.Every(ctx, e.opts.FollowEvery, func() bool {
			got, err := s.FIS.GetExperiment(ctx, &fis.GetExperimentInput{Id: sdkaws.String(id)})
			if err != nil {
				return false // the next tick asks again; rollback does not rely on this
			}
			st, why := expState(got.Experiment)
			if string(st) == status {
				return false
			}
			status = string(st)
			if terminal(st) && e.opts.Ended != nil {
				if ctx.Err() == nil {
					e.opts.Ended(inj, endedAs(id, st, why))
				}
				return true
			}
			msg := fmt.Sprintf("FIS experiment %s of %s on %s is %s", id, inj.Attack, inj.Member.ID, st)
			if why != "" {
				msg += ": " + why
			}
			if ctx.Err() == nil && e.opts.Follow != nil {
				e.opts.Follow(inj, msg)
			}
			return terminal(st)
		})
	}()
}

// endedAs is how an experiment ended, for Options.Ended, which names the
// injection itself.
func endedAs(id string, st fistypes.ExperimentStatus, why string) string {
	msg := fmt.Sprintf("FIS experiment %s is %s", id, st)
	if why = strings.TrimSuffix(why, "."); why != "" {
		msg += ": " + why
	}
	return msg
}

// unfollow stops watching experiment id, as its rollback takes over.
func (e *Executor) unfollow(id string) {
	if c, ok := e.following.LoadAndDelete(id); ok {
		c.(context.CancelFunc)()
	}
}

// Close stops watching experiments and waits for the watchers to end. The
// experiments themselves go on: AWS ends them.
func (e *Executor) Close() error {
	e.stop()
	e.followers.Wait()
	return nil
}

package aws

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// LabelCluster is the ECS cluster a task runs in.
const LabelCluster = "cluster"

// onlyFilters refuses filter names a resource does not take, and returns
// the single value of each it does.
func onlyFilters(a *runbook.AWSTarget, names ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(a.Filters)) {
		if !slices.Contains(names, k) {
			return nil, fmt.Errorf("%s targets take the filters %s, not %q", a.Resource, strings.Join(names, ", "), k)
		}
		if len(a.Filters[k]) != 1 {
			return nil, fmt.Errorf("filters.%s: expected one value, found %d", k, len(a.Filters[k]))
		}
		out[k] = a.Filters[k][0]
	}
	return out, nil
}

// resolveTasks lists the running tasks of a cluster (and service), or
// looks up the ids given, and keeps those carrying every tag.
func (e *Executor) resolveTasks(ctx context.Context, s *session, t runbook.Target) ([]targets.Member, error) {
	a := t.AWS
	f, err := onlyFilters(a, "cluster", "service")
	if err != nil {
		return nil, err
	}
	cluster := f["cluster"]
	if cluster == "" {
		return nil, fmt.Errorf("ecs:task targets need filters: {cluster: [NAME]}, and may add service")
	}
	arns := a.IDs
	if len(arns) == 0 {
		in := &ecs.ListTasksInput{Cluster: sdkaws.String(cluster), DesiredStatus: ecstypes.DesiredStatusRunning}
		if f["service"] != "" {
			in.ServiceName = sdkaws.String(f["service"])
		}
		p := ecs.NewListTasksPaginator(s.ECS, in)
		arns, err = allPages(ctx, p.HasMorePages, p.NextPage, "ecs ListTasks "+cluster, func(o *ecs.ListTasksOutput) []string { return o.TaskArns })
		if err != nil {
			return nil, err
		}
	}
	var out []targets.Member
	for chunk := range slices.Chunk(arns, 100) {
		page, err := s.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: sdkaws.String(cluster), Tasks: chunk, Include: []ecstypes.TaskField{ecstypes.TaskFieldTags}})
		if err != nil {
			return nil, fmt.Errorf("ecs DescribeTasks %s: %w", cluster, explain(err))
		}
		if len(page.Failures) > 0 {
			fl := page.Failures[0]
			return nil, fmt.Errorf("ecs task %s in cluster %s: %s", sdkaws.ToString(fl.Arn), cluster, sdkaws.ToString(fl.Reason))
		}
		for _, task := range page.Tasks {
			tags := map[string]string{}
			for _, tag := range task.Tags {
				tags[sdkaws.ToString(tag.Key)] = sdkaws.ToString(tag.Value)
			}
			service, _ := strings.CutPrefix(sdkaws.ToString(task.Group), "service:")
			if !hasTags(tags, a.Tags) || f["service"] != "" && service != f["service"] {
				continue
			}
			arn := sdkaws.ToString(task.TaskArn)
			l := map[string]string{LabelARN: arn, LabelCluster: cluster, LabelState: sdkaws.ToString(task.LastStatus)}
			if task.AvailabilityZone != nil {
				l[LabelAZ] = *task.AvailabilityZone
			}
			if service != "" {
				l["service"] = service
			}
			for k, v := range tags {
				l[TagLabelPrefix+k] = v
			}
			out = append(out, targets.Member{ID: arn[strings.LastIndexByte(arn, '/')+1:], Addr: arn, Labels: l})
		}
	}
	return out, everyNamed(a, "ecs task", out)
}

func taskARN(inj targets.Injection) string { return cmp.Or(inj.Member.Addr, inj.Member.ID) }

var ecsStopTask = attack{
	plan: func(e *Executor, inj targets.Injection) []string {
		c := inj.Member.Labels[LabelCluster]
		return []string{
			"preflight: ecs DescribeTasks --cluster " + c + " --tasks " + taskARN(inj),
			"inject: ecs StopTask --cluster " + c + " --task " + taskARN(inj),
			"rollback: none: the service scheduler replaces the task",
		}
	},
	preflight: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error {
		c := inj.Member.Labels[LabelCluster]
		out, err := s.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: sdkaws.String(c), Tasks: []string{taskARN(inj)}})
		if err != nil {
			return fmt.Errorf("ecs DescribeTasks: %w", explain(err))
		}
		if len(out.Tasks) == 0 {
			why := "not found"
			if len(out.Failures) > 0 {
				why = sdkaws.ToString(out.Failures[0].Reason)
			}
			return fmt.Errorf("task %s in cluster %s: %s", taskARN(inj), c, why)
		}
		if st := sdkaws.ToString(out.Tasks[0].LastStatus); st == "STOPPED" || st == "DEPROVISIONING" {
			return fmt.Errorf("task %s is already %s", taskARN(inj), st)
		}
		return nil
	},
	inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
		c := inj.Member.Labels[LabelCluster]
		e.opts.Logf("aws %s: ecs StopTask", inj.Member.ID)
		out, err := s.ECS.StopTask(ctx, &ecs.StopTaskInput{Cluster: sdkaws.String(c), Task: sdkaws.String(taskARN(*inj)),
			Reason: sdkaws.String(fmt.Sprintf("gameday run %s, attack %s", inj.RunID, inj.Attack))})
		if err != nil {
			return targets.Result{}, fmt.Errorf("ecs StopTask: %w", explain(err))
		}
		st := ""
		if out.Task != nil {
			st = sdkaws.ToString(out.Task.DesiredStatus)
		}
		return targets.Result{Output: fmt.Sprintf("task %s desired status %s", inj.Member.ID, st)}, nil
	},
	rollback: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
		return targets.Result{Output: "nothing to roll back: a stopped task stays stopped; its service, if any, starts a replacement", Nothing: true}, nil
	},
}

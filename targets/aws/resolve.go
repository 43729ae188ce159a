package aws

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/fis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// resolvers find the members of each resource type.
var resolvers = map[string]func(e *Executor, ctx context.Context, s *session, t runbook.Target) ([]targets.Member, error){
	"ec2:instance":            (*Executor).resolveInstances,
	"ec2:security-group":      (*Executor).resolveSecurityGroups,
	"lambda:function":         (*Executor).resolveFunctions,
	"fis:experiment-template": (*Executor).resolveTemplates,
	"ecs:task":                (*Executor).resolveTasks,
	"rds:cluster":             (*Executor).resolveClusters,
	"rds:instance":            (*Executor).resolveDBInstances,
	"autoscaling:group":       (*Executor).resolveGroups,
	"dynamodb:table":          (*Executor).resolveTables,
}

// filterAliases are the short names a runbook may use for common EC2
// filters; anything else is passed to DescribeInstances as written.
var filterAliases = map[string]string{
	"az":     "availability-zone",
	"vpc":    "vpc-id",
	"subnet": "subnet-id",
	"state":  "instance-state-name",
}

// Resolve turns an aws target into members: the account is checked first,
// then the resources are listed. Members are sorted by ID so a seeded blast
// radius picks the same ones from the same estate.
func (e *Executor) Resolve(ctx context.Context, t runbook.Target) ([]targets.Member, error) {
	a := t.AWS
	if a == nil {
		return nil, fmt.Errorf("target %s is not an aws target", t.Name)
	}
	w := where{Profile: cmp.Or(a.Profile, e.opts.Profile), Region: cmp.Or(a.Region, e.opts.Region), Endpoint: cmp.Or(a.Endpoint, e.opts.Endpoint)}
	s, err := e.ss.get(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	if err := guard(s, a.Accounts); err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	find, ok := resolvers[a.Resource]
	if !ok {
		return nil, fmt.Errorf("target %s: resource %s is not supported by the aws executor (it resolves %s)", t.Name, a.Resource, strings.Join(slices.Sorted(maps.Keys(resolvers)), ", "))
	}
	out, err := find(e, ctx, s, t)
	if err == nil {
		err = e.withinLimits(ctx, s, a, len(out))
	}
	if err != nil {
		return nil, fmt.Errorf("target %s (%s, account %s): %w", t.Name, s.where, s.account, err)
	}
	for i := range out {
		out[i].Target = t.Name
		l := out[i].Labels
		l[LabelRegion] = s.Region
		l[LabelResource] = a.Resource
		l[LabelAccount] = s.account
		if s.Endpoint != "" {
			l[LabelEndpoint] = s.Endpoint
		}
		if s.Profile != "" {
			l[LabelProfile] = s.Profile
		}
		if a.FISRole != "" {
			l[LabelFISRole] = a.FISRole
		}
		if len(a.StopAlarms) > 0 {
			l[LabelStopAlarms] = strings.Join(a.StopAlarms, ",")
		}
	}
	slices.SortFunc(out, func(x, y targets.Member) int { return strings.Compare(x.ID, y.ID) })
	return out, nil
}

// instanceFilters builds the DescribeInstances filters: tags, the
// target's own filters (short names expanded), and running instances
// unless the target asks for a state itself.
func instanceFilters(a *runbook.AWSTarget) []ec2types.Filter {
	state := false
	fs := tagAndFilters(a, filterAliases, func(name string, values []string) ec2types.Filter {
		state = state || name == "instance-state-name"
		return ec2types.Filter{Name: sdkaws.String(name), Values: values}
	})
	if !state {
		fs = append(fs, ec2types.Filter{Name: sdkaws.String("instance-state-name"), Values: []string{"running"}})
	}
	return fs
}

func (e *Executor) resolveInstances(ctx context.Context, s *session, t runbook.Target) ([]targets.Member, error) {
	a := t.AWS
	in := &ec2.DescribeInstancesInput{Filters: instanceFilters(a)}
	if len(a.IDs) > 0 {
		in.InstanceIds = a.IDs
	} else {
		in.MaxResults = sdkaws.Int32(1000)
	}
	p := ec2.NewDescribeInstancesPaginator(s.EC2, in)
	out, err := allPages(ctx, p.HasMorePages, p.NextPage, "ec2 DescribeInstances", func(o *ec2.DescribeInstancesOutput) []targets.Member {
		var ms []targets.Member
		for _, r := range o.Reservations {
			for _, inst := range r.Instances {
				ms = append(ms, instanceMember(inst))
			}
		}
		return ms
	})
	if err != nil {
		return nil, err
	}
	// Instances named by id that the filters left out would otherwise
	// vanish from the blast radius without a word.
	var missing []string
	for _, id := range a.IDs {
		if !slices.ContainsFunc(out, func(m targets.Member) bool { return m.ID == id }) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("instance %s named in ids did not match the target's filters (only running instances unless filters.state says otherwise)", strings.Join(missing, ", "))
	}
	return out, nil
}

func instanceMember(inst ec2types.Instance) targets.Member {
	l := map[string]string{}
	if inst.State != nil {
		l[LabelState] = string(inst.State.Name)
	}
	if inst.Placement != nil && inst.Placement.AvailabilityZone != nil {
		l[LabelAZ] = *inst.Placement.AvailabilityZone
	}
	if inst.VpcId != nil {
		l[LabelVPC] = *inst.VpcId
	}
	for _, tag := range inst.Tags {
		l[TagLabelPrefix+sdkaws.ToString(tag.Key)] = sdkaws.ToString(tag.Value)
	}
	var groups []string
	for _, g := range inst.SecurityGroups {
		groups = append(groups, sdkaws.ToString(g.GroupId))
	}
	if len(groups) > 0 {
		l[LabelGroups] = strings.Join(groups, ",")
	}
	return targets.Member{ID: sdkaws.ToString(inst.InstanceId), Labels: l}
}

// resolveFunctions looks functions up by name or ARN, or lists them and
// keeps those carrying every tag. Each member records its reserved
// concurrency as found, for a rollback that lost the inject's record.
func (e *Executor) resolveFunctions(ctx context.Context, s *session, t runbook.Target) ([]targets.Member, error) {
	a := t.AWS
	names, err := namedOrAll(a, "lambda:function", func() ([]string, error) {
		p := lambda.NewListFunctionsPaginator(s.Lambda, &lambda.ListFunctionsInput{})
		return allPages(ctx, p.HasMorePages, p.NextPage, "lambda ListFunctions", func(o *lambda.ListFunctionsOutput) []string {
			var arns []string
			for _, f := range o.Functions {
				arns = append(arns, sdkaws.ToString(f.FunctionArn))
			}
			return arns
		})
	})
	if err != nil {
		return nil, err
	}
	var out []targets.Member
	for _, name := range names {
		cfg, err := s.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: sdkaws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("lambda function %s: %w", name, explain(err))
		}
		arn := sdkaws.ToString(cfg.FunctionArn)
		l := map[string]string{LabelARN: arn}
		if len(a.Tags) > 0 {
			tags, err := s.Lambda.ListTags(ctx, &lambda.ListTagsInput{Resource: sdkaws.String(arn)})
			if err != nil {
				return nil, fmt.Errorf("lambda function %s: ListTags: %w", name, explain(err))
			}
			if keep, err := keepTagged(a, "lambda function "+name, tags.Tags, l); !keep {
				if err != nil {
					return nil, err
				}
				continue
			}
		}
		conc, err := s.Lambda.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: sdkaws.String(arn)})
		if err != nil {
			return nil, fmt.Errorf("lambda function %s: GetFunctionConcurrency: %w", name, explain(err))
		}
		l[LabelConcurrency] = concurrencyText(conc.ReservedConcurrentExecutions)
		out = append(out, targets.Member{ID: sdkaws.ToString(cfg.FunctionName), Addr: arn, Labels: l})
	}
	return out, nil
}

// keepTagged says whether a resource carrying tags stays a member of the
// target, and adds its tags to its labels when it does. One the runbook
// names by id must carry the target's tags: leaving it out would run the
// attack on fewer members than the runbook lists, so that is an error.
func keepTagged(a *runbook.AWSTarget, what string, tags, labels map[string]string) (bool, error) {
	if !hasTags(tags, a.Tags) {
		if len(a.IDs) > 0 {
			return false, fmt.Errorf("%s does not carry the target's tags", what)
		}
		return false, nil
	}
	for k, v := range tags {
		labels[TagLabelPrefix+k] = v
	}
	return true, nil
}

// everyNamed fails unless each id the target names is among its members:
// a resource named by id that lacks the target's tags or falls outside its
// filters would otherwise leave the blast radius without a word, and the
// attack would run on fewer members than the runbook lists. An id matches
// a member by its id, its ARN, or the ARN's last part.
func everyNamed(a *runbook.AWSTarget, what string, out []targets.Member) error {
	var missing []string
	for _, id := range a.IDs {
		if !slices.ContainsFunc(out, func(m targets.Member) bool {
			arn := cmp.Or(m.Labels[LabelARN], m.Addr)
			return id == m.ID || id == arn || arn != "" && (strings.HasSuffix(arn, "/"+id) || strings.HasSuffix(arn, ":"+id))
		}) {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	want := "the target's tags"
	if len(a.Tags) > 0 {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(a.Tags)) {
			kv = append(kv, k+"="+a.Tags[k])
		}
		want = "the target's tags (" + strings.Join(kv, ", ") + ")"
	}
	if len(a.Filters) > 0 {
		want += " or does not match its filters"
	}
	return fmt.Errorf("%s %s named in ids is not a member: it does not carry %s", what, strings.Join(missing, ", "), want)
}

func hasTags(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func concurrencyText(n *int32) string {
	if n == nil {
		return "none"
	}
	return strconv.Itoa(int(*n))
}

// resolveTemplates checks that each template exists; FIS templates are
// picked by id, as a template is written for one experiment.
func (e *Executor) resolveTemplates(ctx context.Context, s *session, t runbook.Target) ([]targets.Member, error) {
	a := t.AWS
	if len(a.IDs) == 0 || len(a.Filters) > 0 || len(a.Tags) > 0 {
		return nil, fmt.Errorf("fis:experiment-template targets take ids only")
	}
	var out []targets.Member
	for _, id := range a.IDs {
		tpl, err := s.FIS.GetExperimentTemplate(ctx, &fis.GetExperimentTemplateInput{Id: sdkaws.String(id)})
		if err != nil {
			return nil, fmt.Errorf("fis experiment template %s: %w", id, explain(err))
		}
		l := map[string]string{}
		if tpl.ExperimentTemplate != nil {
			for k, v := range tpl.ExperimentTemplate.Tags {
				l[TagLabelPrefix+k] = v
			}
		}
		out = append(out, targets.Member{ID: id, Labels: l})
	}
	return out, nil
}

// shareFloor is the member count above which an ec2:instance target may
// not cover most of the account: below it, a small estate (the lab) is
// attacked whole on purpose.
const shareFloor = 10

// withinLimits refuses a target that resolved to more than it may: a
// selector that came out broader than meant (a templated tag that matches
// a whole environment) must stop before the blast radius, not after.
// max_members in the runbook raises the count and lifts the share.
func (e *Executor) withinLimits(ctx context.Context, s *session, a *runbook.AWSTarget, n int) error {
	if a.MaxMembers > 0 {
		if n > a.MaxMembers {
			return fmt.Errorf("resolved to %d members, more than its max_members of %d: narrow the selector or raise max_members", n, a.MaxMembers)
		}
		return nil
	}
	if n > runbook.DefaultMaxMembers {
		return fmt.Errorf("resolved to %d members, more than the %d an aws target may have unless its runbook sets max_members: narrow the selector, or set max_members: %d on the target if you mean that many", n, runbook.DefaultMaxMembers, n)
	}
	if a.Resource != "ec2:instance" || len(a.IDs) > 0 || n <= shareFloor {
		return nil
	}
	// The same states as the target, every tag and other filter left out.
	all := &runbook.AWSTarget{Filters: map[string][]string{}}
	for k, v := range a.Filters {
		if k == "state" || k == "instance-state-name" {
			all.Filters[k] = v
		}
	}
	p := ec2.NewDescribeInstancesPaginator(s.EC2, &ec2.DescribeInstancesInput{Filters: instanceFilters(all), MaxResults: sdkaws.Int32(1000)})
	rs, err := allPages(ctx, p.HasMorePages, p.NextPage, "ec2 DescribeInstances", func(o *ec2.DescribeInstancesOutput) []ec2types.Reservation { return o.Reservations })
	if err != nil {
		return fmt.Errorf("count the account's instances for the share limit: %w", err)
	}
	total := 0
	for _, r := range rs {
		total += len(r.Instances)
	}
	if 2*n > total {
		return fmt.Errorf("resolved to %d of the account's %d instances in %s, more than half: narrow the selector, or set max_members: %d on the target if you mean that many", n, total, s.Region, n)
	}
	return nil
}

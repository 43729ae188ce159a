package aws

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

const (
	// LabelGroups is an instance's security groups, comma-separated.
	LabelGroups = "security_groups"
	// LabelRules is every rule of a security group when it was resolved,
	// as JSON: what a sg-blackhole rollback puts back when the inject's own
	// record was lost.
	LabelRules = "rules"
	// LabelAttached is the instances a security group is attached to when
	// it was resolved, comma-separated: all of them are cut when its rules
	// are removed.
	LabelAttached = "attached_instances"
)

// openConnections is what removing a rule does not do, said wherever an
// sg-blackhole is planned or applied.
const openConnections = "removing a rule does not cut connections already open: AWS lets tracked connections go on until they close or idle out; only new ones are refused"

// sgRule is one security group rule, everything needed to authorise it
// again exactly as it was.
type sgRule struct {
	ID         string `json:"id"`
	Group      string `json:"group"`
	Egress     bool   `json:"egress,omitempty"`
	Protocol   string `json:"protocol"`
	From       int32  `json:"from"`
	To         int32  `json:"to"`
	CIDR4      string `json:"cidr4,omitempty"`
	CIDR6      string `json:"cidr6,omitempty"`
	Peer       string `json:"peer,omitempty"`        // a referenced security group
	PrefixList string `json:"prefix_list,omitempty"` // a managed prefix list
	Desc       string `json:"desc,omitempty"`
}

func ruleOf(r ec2types.SecurityGroupRule) sgRule {
	out := sgRule{
		ID: sdkaws.ToString(r.SecurityGroupRuleId), Group: sdkaws.ToString(r.GroupId), Egress: sdkaws.ToBool(r.IsEgress),
		Protocol: sdkaws.ToString(r.IpProtocol), From: sdkaws.ToInt32(r.FromPort), To: sdkaws.ToInt32(r.ToPort),
		CIDR4: sdkaws.ToString(r.CidrIpv4), CIDR6: sdkaws.ToString(r.CidrIpv6), PrefixList: sdkaws.ToString(r.PrefixListId),
		Desc: sdkaws.ToString(r.Description),
	}
	if r.ReferencedGroupInfo != nil {
		out.Peer = sdkaws.ToString(r.ReferencedGroupInfo.GroupId)
	}
	return out
}

func (r sgRule) String() string {
	dir, peer := "ingress from", r.CIDR4+r.CIDR6+r.Peer+r.PrefixList
	if r.Egress {
		dir = "egress to"
	}
	ports := ""
	if proto(r.Protocol) != "all" {
		ports = fmt.Sprintf(" %d-%d", r.From, r.To)
	}
	return fmt.Sprintf("%s %s %s %s%s", r.Group, dir, peer, proto(r.Protocol), ports)
}

// proto names a rule's protocol as the kind's protocol param does.
func proto(p string) string {
	switch p {
	case "-1":
		return "all"
	case "6":
		return "tcp"
	case "17":
		return "udp"
	}
	return p
}

// permission is the rule as AuthorizeSecurityGroup* takes it.
func (r sgRule) permission() ec2types.IpPermission {
	p := ec2types.IpPermission{IpProtocol: sdkaws.String(r.Protocol)}
	if proto(r.Protocol) != "all" {
		p.FromPort, p.ToPort = sdkaws.Int32(r.From), sdkaws.Int32(r.To)
	}
	desc := nonEmpty(r.Desc)
	switch {
	case r.CIDR4 != "":
		p.IpRanges = []ec2types.IpRange{{CidrIp: sdkaws.String(r.CIDR4), Description: desc}}
	case r.CIDR6 != "":
		p.Ipv6Ranges = []ec2types.Ipv6Range{{CidrIpv6: sdkaws.String(r.CIDR6), Description: desc}}
	case r.Peer != "":
		p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: sdkaws.String(r.Peer), Description: desc}}
	case r.PrefixList != "":
		p.PrefixListIds = []ec2types.PrefixListId{{PrefixListId: sdkaws.String(r.PrefixList), Description: desc}}
	}
	return p
}

// matches says whether the attack's params select the rule: its direction,
// a protocol it allows, a port it covers, a network it covers.
func matches(r sgRule, v targets.Values) bool {
	switch v.String("direction") {
	case "ingress":
		if r.Egress {
			return false
		}
	case "egress":
		if !r.Egress {
			return false
		}
	}
	// A rule for all protocols is not one a protocol-scoped attack may
	// take: removing it would cut every protocol, not the one asked for.
	// covers reports such rules as left in place.
	rp := proto(r.Protocol)
	if want := v.String("protocol"); want != "all" && rp != want {
		return false
	}
	if v.Has("port") && rp != "all" {
		port := int32(v.Int("port"))
		if port < r.From || port > r.To {
			return false
		}
	}
	if v.Has("cidr") {
		want, err := netip.ParsePrefix(v.String("cidr"))
		have, err2 := netip.ParsePrefix(r.CIDR4 + r.CIDR6)
		if err != nil || err2 != nil || have.Bits() > want.Bits() || !have.Contains(want.Addr()) {
			return false
		}
	}
	return true
}

// keeps says whether the rule would match but for allowing every
// protocol while the attack names one: it is left in place, and the
// traffic it allows is not cut.
func keeps(r sgRule, v targets.Values) bool {
	if proto(r.Protocol) != "all" || v.String("protocol") == "all" {
		return false
	}
	scoped := r
	scoped.Protocol, scoped.From, scoped.To = v.String("protocol"), 0, 65535
	return matches(scoped, v)
}

// wider says what else a rule that the attack removes allows, beyond the
// port it names: removing it cuts that too.
func wider(r sgRule, v targets.Values) string {
	if !v.Has("port") || proto(r.Protocol) == "all" {
		return ""
	}
	if p := int32(v.Int("port")); r.From != p || r.To != p {
		return fmt.Sprintf(" (it covers ports %d-%d: all of them are cut, not only %d)", r.From, r.To, p)
	}
	return ""
}

func listRules(ctx context.Context, s *session, groups []string) ([]sgRule, error) {
	p := ec2.NewDescribeSecurityGroupRulesPaginator(s.EC2, &ec2.DescribeSecurityGroupRulesInput{
		Filters: []ec2types.Filter{{Name: sdkaws.String("group-id"), Values: groups}},
	})
	return allPages(ctx, p.HasMorePages, p.NextPage, "ec2 DescribeSecurityGroupRules", func(o *ec2.DescribeSecurityGroupRulesOutput) []sgRule {
		var rules []sgRule
		for _, r := range o.SecurityGroupRules {
			rules = append(rules, ruleOf(r))
		}
		return rules
	})
}

func (e *Executor) resolveSecurityGroups(ctx context.Context, s *session, t runbook.Target) ([]targets.Member, error) {
	a := t.AWS
	in := &ec2.DescribeSecurityGroupsInput{GroupIds: a.IDs,
		Filters: tagAndFilters(a, map[string]string{"vpc": "vpc-id"}, func(name string, values []string) ec2types.Filter {
			return ec2types.Filter{Name: sdkaws.String(name), Values: values}
		})}
	p := ec2.NewDescribeSecurityGroupsPaginator(s.EC2, in)
	groups, err := allPages(ctx, p.HasMorePages, p.NextPage, "ec2 DescribeSecurityGroups", func(o *ec2.DescribeSecurityGroupsOutput) []ec2types.SecurityGroup { return o.SecurityGroups })
	if err != nil {
		return nil, err
	}
	var out []targets.Member
	for _, g := range groups {
		l := map[string]string{"name": sdkaws.ToString(g.GroupName), LabelVPC: sdkaws.ToString(g.VpcId)}
		for _, tag := range g.Tags {
			l[TagLabelPrefix+sdkaws.ToString(tag.Key)] = sdkaws.ToString(tag.Value)
		}
		out = append(out, targets.Member{ID: sdkaws.ToString(g.GroupId), Labels: l})
	}
	if err := everyNamed(a, "security group", out); err != nil {
		return nil, err
	}
	for _, m := range out {
		rules, err := listRules(ctx, s, []string{m.ID})
		if err != nil {
			return nil, fmt.Errorf("security group %s: %w", m.ID, err)
		}
		b, _ := json.Marshal(rules)
		m.Labels[LabelRules] = string(b)
		// Who is behind the group is part of the blast radius: every one
		// of them loses what the group allowed.
		behind, err := attachedTo(ctx, s, []string{m.ID})
		if err != nil {
			return nil, fmt.Errorf("security group %s: %w", m.ID, err)
		}
		m.Labels[LabelAttached] = strings.Join(behind, ",")
	}
	return out, nil
}

// attachedTo lists the instances (not terminated) that carry any of the
// groups, sorted.
func attachedTo(ctx context.Context, s *session, groups []string) ([]string, error) {
	p := ec2.NewDescribeInstancesPaginator(s.EC2, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: sdkaws.String("instance.group-id"), Values: groups},
		{Name: sdkaws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}},
	}})
	out, err := allPages(ctx, p.HasMorePages, p.NextPage, "ec2 DescribeInstances --filters instance.group-id="+strings.Join(groups, ","), func(o *ec2.DescribeInstancesOutput) []string {
		var ids []string
		for _, r := range o.Reservations {
			for _, in := range r.Instances {
				ids = append(ids, sdkaws.ToString(in.InstanceId))
			}
		}
		return ids
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// sgGroups are the groups an injection changes: the member itself, the
// group_id param, or every group attached to the instance.
func sgGroups(inj targets.Injection) ([]string, error) {
	m := inj.Member
	if m.Labels[LabelResource] == "ec2:security-group" {
		return []string{m.ID}, nil
	}
	attached := splitList(m.Labels[LabelGroups])
	if g := inj.Params["group_id"]; g != "" {
		if !slices.Contains(attached, g) {
			return nil, fmt.Errorf("security group %s is not attached to instance %s (it has %s)", g, m.ID, cmp.Or(strings.Join(attached, ", "), "none"))
		}
		return []string{g}, nil
	}
	if len(attached) == 0 {
		return nil, fmt.Errorf("instance %s has no security groups recorded; resolve it again", m.ID)
	}
	return attached, nil
}

// sgPick is what an sg-blackhole on one member does: the rules it
// removes, those it leaves that still allow the traffic, and the instances
// behind the groups.
type sgPick struct {
	groups    []string
	revoke    []sgRule
	kept      []sgRule
	instances []string
	v         targets.Values
}

// lines words the pick for a plan or a result, rule by rule.
func (p sgPick) lines(verb string) []string {
	var out []string
	for _, r := range p.revoke {
		out = append(out, verb+" "+r.String()+wider(r, p.v))
	}
	for _, r := range p.kept {
		out = append(out, fmt.Sprintf("keep %s: it allows every protocol, more than %s; what it allows is not cut", r, p.v.String("protocol")))
	}
	if p.instances != nil {
		out = append(out, fmt.Sprintf("cuts the %d instance(s) behind %s: %s", len(p.instances), strings.Join(p.groups, ", "), cmp.Or(strings.Join(p.instances, ", "), "none")))
	}
	return append(out, "note: "+openConnections)
}

// selected lists the rules of the injection's groups that its params pick.
func (e *Executor) selected(ctx context.Context, s *session, inj targets.Injection) (sgPick, error) {
	v, err := e.parse(inj)
	if err != nil {
		return sgPick{}, err
	}
	groups, err := sgGroups(inj)
	if err != nil {
		return sgPick{}, err
	}
	rules, err := listRules(ctx, s, groups)
	if err != nil {
		return sgPick{}, err
	}
	p := pick(groups, rules, v)
	if len(p.revoke) == 0 {
		return p, fmt.Errorf("no rule of %s matches (direction %s, protocol %s%s%s): the attack would change nothing%s",
			strings.Join(groups, ", "), v.String("direction"), v.String("protocol"), optional(" port ", inj.Params["port"]), optional(" cidr ", inj.Params["cidr"]), keptNote(p.kept))
	}
	return p, nil
}

func pick(groups []string, rules []sgRule, v targets.Values) sgPick {
	p := sgPick{groups: groups, v: v}
	for _, r := range rules {
		switch {
		case matches(r, v):
			p.revoke = append(p.revoke, r)
		case keeps(r, v):
			p.kept = append(p.kept, r)
		}
	}
	return p
}

func keptNote(kept []sgRule) string {
	if len(kept) == 0 {
		return ""
	}
	s := make([]string, len(kept))
	for i, r := range kept {
		s[i] = r.String()
	}
	return "; rules for every protocol are never removed by a protocol-scoped attack: " + strings.Join(s, "; ")
}

func optional(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// revoke takes rules out, one call per group and direction.
func revoke(ctx context.Context, s *session, rules []sgRule, dry bool) error {
	type key struct {
		group  string
		egress bool
	}
	ids := map[key][]string{}
	for _, r := range rules {
		k := key{r.Group, r.Egress}
		ids[k] = append(ids[k], r.ID)
	}
	var dryFlag *bool
	if dry {
		dryFlag = sdkaws.Bool(true)
	}
	for k, list := range ids {
		var err error
		var tries int
		count := func(o *ec2.Options) { o.APIOptions = append(o.APIOptions, attempts(&tries)) }
		if k.egress {
			_, err = s.EC2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: sdkaws.String(k.group), SecurityGroupRuleIds: list, DryRun: dryFlag}, count)
		} else {
			_, err = s.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: sdkaws.String(k.group), SecurityGroupRuleIds: list, DryRun: dryFlag}, count)
		}
		op := "RevokeSecurityGroupIngress"
		if k.egress {
			op = "RevokeSecurityGroupEgress"
		}
		if dry {
			err = dryRun(op, err)
		} else if err != nil && tries > 1 && apiCode(err) == "InvalidSecurityGroupRuleId.NotFound" && allGone(ctx, s, k.group, list) {
			// The first attempt revoked them; its answer was lost and the
			// SDK's retry found them gone.
			err = nil
		}
		if err != nil {
			return fmt.Errorf("security group %s: ec2 %s: %w", k.group, op, explain(err))
		}
	}
	return nil
}

// allGone says whether none of the rules ids is left in group, as far as
// DescribeSecurityGroupRules tells; false when it cannot tell.
func allGone(ctx context.Context, s *session, group string, ids []string) bool {
	rules, err := listRules(ctx, s, []string{group})
	if err != nil {
		return false
	}
	for _, r := range rules {
		if slices.Contains(ids, r.ID) {
			return false
		}
	}
	return true
}

var sgBlackhole = attack{
	plan: func(e *Executor, inj targets.Injection) []string {
		groups, err := sgGroups(inj)
		if err != nil {
			return []string{"cannot plan: " + err.Error()}
		}
		g := strings.Join(groups, ",")
		dir := inj.Params["direction"]
		if dir == "both" {
			dir = "both (ingress and egress, the default)"
		}
		out := []string{
			"preflight: ec2 DescribeSecurityGroupRules --filters group-id=" + g + ", DescribeInstances --filters instance.group-id=" + g + ", RevokeSecurityGroup* --dry-run of the matching rules",
			"inject: direction " + dir + ": ec2 RevokeSecurityGroupIngress/Egress --security-group-rule-ids of the matching rules, recorded first:",
		}
		p, ok := e.sgPlans.Load(sgPlanKey(inj))
		if !ok {
			p, ok = recordedPick(e, inj, groups)
		}
		if ok {
			for _, l := range p.(sgPick).lines("revoke") {
				out = append(out, "inject: "+l)
			}
		} else {
			out = append(out, "inject: the matching rules are listed once preflight has read them", "inject: note: "+openConnections)
		}
		return append(out, "rollback: ec2 AuthorizeSecurityGroupIngress/Egress of exactly the recorded rules")
	},
	preflight: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error {
		p, err := e.selected(ctx, s, inj)
		if err != nil {
			return err
		}
		if p.instances, err = attachedTo(ctx, s, p.groups); err != nil {
			return err
		}
		if err := sharedRefusal(inj, p); err != nil {
			return err
		}
		e.sgPlans.Store(sgPlanKey(inj), p)
		return revoke(ctx, s, p.revoke, true)
	},
	inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
		p, err := e.selected(ctx, s, *inj)
		if err != nil {
			return targets.Result{}, err
		}
		if p.instances, err = attachedTo(ctx, s, p.groups); err != nil {
			return targets.Result{}, err
		}
		if err := sharedRefusal(*inj, p); err != nil {
			return targets.Result{}, err
		}
		b, _ := json.Marshal(p.revoke)
		inj.State["revoked"] = string(b)
		e.opts.Logf("aws %s: ec2 RevokeSecurityGroup* of %d rules", inj.Member.ID, len(p.revoke))
		if err := revoke(ctx, s, p.revoke, false); err != nil {
			return targets.Result{}, err
		}
		return targets.Result{Output: strings.Join(p.lines("revoked"), "\n")}, nil
	},
	rollback: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
		var rules []sgRule
		switch rec := inj.State["revoked"]; {
		case rec != "":
			if err := json.Unmarshal([]byte(rec), &rules); err != nil {
				return targets.Result{}, fmt.Errorf("the recorded rules do not parse: %v", err)
			}
		case inj.Member.Labels[LabelRules] != "":
			// The inject's record was lost; the group's rules as resolved,
			// narrowed by the params, are what it would have revoked.
			var all []sgRule
			if err := json.Unmarshal([]byte(inj.Member.Labels[LabelRules]), &all); err != nil {
				return targets.Result{}, fmt.Errorf("the resolved rules do not parse: %v", err)
			}
			v, err := e.parse(inj)
			if err != nil {
				return targets.Result{}, err
			}
			for _, r := range all {
				if matches(r, v) {
					rules = append(rules, r)
				}
			}
		default:
			return targets.Result{}, fmt.Errorf("the revoked rules were not recorded (gameday stopped between the revoke and its result) and an instance target does not record its groups' rules: compare %s with their definition and add back what is missing; target the groups as ec2:security-group to have them recorded at resolution",
				cmp.Or(inj.Member.Labels[LabelGroups], "the instance's groups"))
		}
		var lines []string
		var errs []error
		for _, r := range rules {
			var err error
			perm := []ec2types.IpPermission{r.permission()}
			if r.Egress {
				_, err = s.EC2.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: sdkaws.String(r.Group), IpPermissions: perm})
			} else {
				_, err = s.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sdkaws.String(r.Group), IpPermissions: perm})
			}
			switch {
			case apiCode(err) == "InvalidPermission.Duplicate":
				lines = append(lines, "present "+r.String())
			case err != nil:
				errs = append(errs, fmt.Errorf("%s: %w", r, explain(err)))
			default:
				lines = append(lines, "authorized "+r.String())
			}
		}
		return targets.Result{Output: strings.Join(lines, "\n")}, errors.Join(errs...)
	},
}

// sgPlanKey names an injection's preflight findings, which its plan lists.
func sgPlanKey(inj targets.Injection) string {
	return inj.RunID + "\x00" + inj.Attack + "\x00" + inj.Member.ID
}

// recordedPick is the pick from a group member's rules as resolved, for a
// plan made before any preflight.
func recordedPick(e *Executor, inj targets.Injection, groups []string) (any, bool) {
	rec := inj.Member.Labels[LabelRules]
	if rec == "" {
		return nil, false
	}
	var rules []sgRule
	v, err := e.parse(inj)
	if err != nil || json.Unmarshal([]byte(rec), &rules) != nil {
		return nil, false
	}
	p := pick(groups, rules, v)
	if a, ok := inj.Member.Labels[LabelAttached]; ok {
		p.instances = splitList(a)
	}
	return p, true
}

// sharedRefusal keeps an instance target's attack inside its blast radius:
// a group attached to other instances cuts them too, and the blast radius
// shows only the member, so that takes shared: true.
func sharedRefusal(inj targets.Injection, p sgPick) error {
	if inj.Member.Labels[LabelResource] == "ec2:security-group" || inj.Params["shared"] == "true" {
		return nil
	}
	others := slices.DeleteFunc(slices.Clone(p.instances), func(id string) bool { return id == inj.Member.ID })
	if len(others) == 0 {
		return nil
	}
	return fmt.Errorf("%s is also attached to %d other instance(s) outside this member: %s; removing its rules cuts them too. Target the groups instead (resource: ec2:security-group), whose blast radius lists every instance behind them, name a group only this instance has with group_id, or set shared: true",
		strings.Join(p.groups, ", "), len(others), strings.Join(others, ", "))
}

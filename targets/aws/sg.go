package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
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
)

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
	rp := proto(r.Protocol)
	if want := v.String("protocol"); want != "all" && rp != want && rp != "all" {
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

func listRules(ctx context.Context, s *session, groups []string) ([]sgRule, error) {
	var out []sgRule
	p := ec2.NewDescribeSecurityGroupRulesPaginator(s.EC2, &ec2.DescribeSecurityGroupRulesInput{
		Filters: []ec2types.Filter{{Name: sdkaws.String("group-id"), Values: groups}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ec2 DescribeSecurityGroupRules: %w", explain(err))
		}
		for _, r := range page.SecurityGroupRules {
			out = append(out, ruleOf(r))
		}
	}
	return out, nil
}

func (e *Executor) resolveSecurityGroups(ctx context.Context, s *session, t runbook.Target) ([]targets.Member, error) {
	a := t.AWS
	in := &ec2.DescribeSecurityGroupsInput{GroupIds: a.IDs}
	for _, k := range slices.Sorted(maps.Keys(a.Tags)) {
		in.Filters = append(in.Filters, ec2types.Filter{Name: sdkaws.String("tag:" + k), Values: []string{a.Tags[k]}})
	}
	for _, k := range slices.Sorted(maps.Keys(a.Filters)) {
		name := k
		if k == "vpc" {
			name = "vpc-id"
		}
		in.Filters = append(in.Filters, ec2types.Filter{Name: sdkaws.String(name), Values: a.Filters[k]})
	}
	var out []targets.Member
	p := ec2.NewDescribeSecurityGroupsPaginator(s.EC2, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ec2 DescribeSecurityGroups: %w", explain(err))
		}
		for _, g := range page.SecurityGroups {
			l := map[string]string{"name": sdkaws.ToString(g.GroupName), LabelVPC: sdkaws.ToString(g.VpcId)}
			for _, tag := range g.Tags {
				l[TagLabelPrefix+sdkaws.ToString(tag.Key)] = sdkaws.ToString(tag.Value)
			}
			out = append(out, targets.Member{ID: sdkaws.ToString(g.GroupId), Labels: l})
		}
	}
	for _, m := range out {
		rules, err := listRules(ctx, s, []string{m.ID})
		if err != nil {
			return nil, fmt.Errorf("security group %s: %w", m.ID, err)
		}
		b, _ := json.Marshal(rules)
		m.Labels[LabelRules] = string(b)
	}
	return out, nil
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
			return nil, fmt.Errorf("security group %s is not attached to instance %s (it has %s)", g, m.ID, cmpOr(strings.Join(attached, ", "), "none"))
		}
		return []string{g}, nil
	}
	if len(attached) == 0 {
		return nil, fmt.Errorf("instance %s has no security groups recorded; resolve it again", m.ID)
	}
	return attached, nil
}

// selected lists the rules of the injection's groups that its params pick.
func (e *Executor) selected(ctx context.Context, s *session, inj targets.Injection) ([]sgRule, error) {
	v, err := e.parse(inj)
	if err != nil {
		return nil, err
	}
	groups, err := sgGroups(inj)
	if err != nil {
		return nil, err
	}
	rules, err := listRules(ctx, s, groups)
	if err != nil {
		return nil, err
	}
	var out []sgRule
	for _, r := range rules {
		if matches(r, v) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no rule of %s matches (direction %s, protocol %s%s%s): the attack would change nothing",
			strings.Join(groups, ", "), v.String("direction"), v.String("protocol"), optional(" port ", inj.Params["port"]), optional(" cidr ", inj.Params["cidr"]))
	}
	return out, nil
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
		if k.egress {
			_, err = s.EC2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: sdkaws.String(k.group), SecurityGroupRuleIds: list, DryRun: dryFlag})
		} else {
			_, err = s.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: sdkaws.String(k.group), SecurityGroupRuleIds: list, DryRun: dryFlag})
		}
		op := "RevokeSecurityGroupIngress"
		if k.egress {
			op = "RevokeSecurityGroupEgress"
		}
		if dry {
			err = dryRun(op, err)
		}
		if err != nil {
			return fmt.Errorf("security group %s: ec2 %s: %w", k.group, op, explain(err))
		}
	}
	return nil
}

var sgBlackhole = attack{
	plan: func(e *Executor, inj targets.Injection) []string {
		groups, err := sgGroups(inj)
		if err != nil {
			return []string{"cannot plan: " + err.Error()}
		}
		g := strings.Join(groups, ",")
		return []string{
			"preflight: ec2 DescribeSecurityGroupRules --filters group-id=" + g + ", RevokeSecurityGroup* --dry-run of the matching rules",
			"inject: ec2 DescribeSecurityGroupRules (matching rules recorded), RevokeSecurityGroupIngress/Egress --security-group-rule-ids ...",
			"rollback: ec2 AuthorizeSecurityGroupIngress/Egress of exactly the recorded rules",
		}
	},
	preflight: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error {
		rules, err := e.selected(ctx, s, inj)
		if err != nil {
			return err
		}
		return revoke(ctx, s, rules, true)
	},
	inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
		rules, err := e.selected(ctx, s, *inj)
		if err != nil {
			return targets.Result{}, err
		}
		b, _ := json.Marshal(rules)
		inj.State["revoked"] = string(b)
		e.opts.Logf("aws %s: ec2 RevokeSecurityGroup* of %d rules", inj.Member.ID, len(rules))
		if err := revoke(ctx, s, rules, false); err != nil {
			return targets.Result{}, err
		}
		lines := make([]string, len(rules))
		for i, r := range rules {
			lines[i] = "revoked " + r.String()
		}
		return targets.Result{Output: strings.Join(lines, "\n")}, nil
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
				cmpOr(inj.Member.Labels[LabelGroups], "the instance's groups"))
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

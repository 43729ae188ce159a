package aws

import (
	"context"
	"fmt"
	"maps"
	"slices"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// fakeSG is the security-group half of EC2, for the cases the lab's
// groups do not cover.
type fakeSG struct {
	EC2API
	rules    []sgRule
	next     int
	attached map[string][]string // instance: its groups
}

func (f *fakeSG) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	var want []string
	for _, fl := range in.Filters {
		if sdkaws.ToString(fl.Name) == "instance.group-id" {
			want = fl.Values
		}
	}
	var r ec2types.Reservation
	for _, id := range slices.Sorted(maps.Keys(f.attached)) {
		if slices.ContainsFunc(f.attached[id], func(g string) bool { return slices.Contains(want, g) }) {
			r.Instances = append(r.Instances, ec2types.Instance{InstanceId: sdkaws.String(id)})
		}
	}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{r}}, nil
}

func (f *fakeSG) DescribeSecurityGroups(_ context.Context, in *ec2.DescribeSecurityGroupsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	var out ec2.DescribeSecurityGroupsOutput
	seen := map[string]bool{}
	for _, r := range f.rules {
		if seen[r.Group] || len(in.GroupIds) > 0 && !slices.Contains(in.GroupIds, r.Group) {
			continue
		}
		seen[r.Group] = true
		out.SecurityGroups = append(out.SecurityGroups, ec2types.SecurityGroup{GroupId: sdkaws.String(r.Group), GroupName: sdkaws.String("web")})
	}
	return &out, nil
}

func (f *fakeSG) DescribeSecurityGroupRules(_ context.Context, in *ec2.DescribeSecurityGroupRulesInput, _ ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupRulesOutput, error) {
	var out ec2.DescribeSecurityGroupRulesOutput
	for _, r := range f.rules {
		if !slices.Contains(in.Filters[0].Values, r.Group) {
			continue
		}
		x := ec2types.SecurityGroupRule{SecurityGroupRuleId: sdkaws.String(r.ID), GroupId: sdkaws.String(r.Group), IsEgress: sdkaws.Bool(r.Egress),
			IpProtocol: sdkaws.String(r.Protocol), FromPort: sdkaws.Int32(r.From), ToPort: sdkaws.Int32(r.To), Description: nonEmpty(r.Desc),
			CidrIpv4: nonEmpty(r.CIDR4), CidrIpv6: nonEmpty(r.CIDR6)}
		if r.Peer != "" {
			x.ReferencedGroupInfo = &ec2types.ReferencedSecurityGroup{GroupId: sdkaws.String(r.Peer)}
		}
		out.SecurityGroupRules = append(out.SecurityGroupRules, x)
	}
	return &out, nil
}

func (f *fakeSG) revoke(group string, egress bool, ids []string, dry *bool) error {
	if sdkaws.ToBool(dry) {
		return &smithy.GenericAPIError{Code: "DryRunOperation"}
	}
	for _, id := range ids {
		i := slices.IndexFunc(f.rules, func(r sgRule) bool { return r.ID == id && r.Group == group && r.Egress == egress })
		if i < 0 {
			return &smithy.GenericAPIError{Code: "InvalidSecurityGroupRuleId.NotFound", Message: id}
		}
		f.rules = slices.Delete(f.rules, i, i+1)
	}
	return nil
}

func (f *fakeSG) RevokeSecurityGroupIngress(_ context.Context, in *ec2.RevokeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error) {
	return &ec2.RevokeSecurityGroupIngressOutput{}, f.revoke(*in.GroupId, false, in.SecurityGroupRuleIds, in.DryRun)
}

func (f *fakeSG) RevokeSecurityGroupEgress(_ context.Context, in *ec2.RevokeSecurityGroupEgressInput, _ ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error) {
	return &ec2.RevokeSecurityGroupEgressOutput{}, f.revoke(*in.GroupId, true, in.SecurityGroupRuleIds, in.DryRun)
}

func (f *fakeSG) authorize(group string, egress bool, perms []ec2types.IpPermission) error {
	for _, p := range perms {
		r := sgRule{Group: group, Egress: egress, Protocol: *p.IpProtocol, From: sdkaws.ToInt32(p.FromPort), To: sdkaws.ToInt32(p.ToPort)}
		if p.FromPort == nil {
			r.From, r.To = -1, -1
		}
		for _, x := range p.IpRanges {
			r.CIDR4, r.Desc = *x.CidrIp, sdkaws.ToString(x.Description)
		}
		for _, x := range p.UserIdGroupPairs {
			r.Peer, r.Desc = *x.GroupId, sdkaws.ToString(x.Description)
		}
		for _, x := range f.rules {
			if x.Group == r.Group && x.Egress == r.Egress && x.Protocol == r.Protocol && x.From == r.From && x.To == r.To && x.CIDR4 == r.CIDR4 && x.Peer == r.Peer {
				return &smithy.GenericAPIError{Code: "InvalidPermission.Duplicate", Message: "the specified rule already exists"}
			}
		}
		f.next++
		r.ID = fmt.Sprintf("sgr-new%d", f.next)
		f.rules = append(f.rules, r)
	}
	return nil
}

func (f *fakeSG) AuthorizeSecurityGroupIngress(_ context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
	return &ec2.AuthorizeSecurityGroupIngressOutput{}, f.authorize(*in.GroupId, false, in.IpPermissions)
}

func (f *fakeSG) AuthorizeSecurityGroupEgress(_ context.Context, in *ec2.AuthorizeSecurityGroupEgressInput, _ ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error) {
	return &ec2.AuthorizeSecurityGroupEgressOutput{}, f.authorize(*in.GroupId, true, in.IpPermissions)
}

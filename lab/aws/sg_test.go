package aws

import (
	"context"
	"fmt"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestSecurityGroups(t *testing.T) {
	s := startServer(t, Options{})
	seedCheckoutGroups(t, s)
	c := ec2.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	ctx := context.Background()
	describeCheckoutGroup(t, ctx, c)
	revokeAndRestorePublic(t, ctx, c, s)
	revokeRulesByID(t, ctx, c, s)
	groupErrorsAndPages(t, ctx, c, s)
}

// seedCheckoutGroups adds a group with ingress from anywhere, a /8 and a
// group, and one egress rule, the group it names, and an instance in it.
func seedCheckoutGroups(t *testing.T, s *Server) {
	err := s.AddSecurityGroup(SecurityGroup{
		ID: "sg-0checkout", Name: "checkout", VPC: "vpc-1", Tags: map[string]string{"service": "checkout"},
		Rules: []Rule{
			{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDR: "0.0.0.0/0", Description: "https"},
			{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDR: "10.0.0.0/8"},
			{Protocol: "tcp", FromPort: 5432, ToPort: 5432, Group: "sg-0db"},
			{Egress: true, Protocol: "-1", CIDR: "0.0.0.0/0"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddSecurityGroup(SecurityGroup{ID: "sg-0db", Name: "db"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddInstance(Instance{ID: InstanceID(1), SecurityGroups: []string{"sg-0checkout"}}); err != nil {
		t.Fatal(err)
	}
}

// describeCheckoutGroup: instances are found by group, and the group's rules
// decode as the SDK reads them.
func describeCheckoutGroup(t *testing.T, ctx context.Context, c *ec2.Client) {
	inst, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: sdkaws.String("instance.group-id"), Values: []string{"sg-0checkout"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(inst.Reservations) != 1 || sdkaws.ToString(inst.Reservations[0].Instances[0].SecurityGroups[0].GroupName) != "checkout" {
		t.Fatalf("instance groups: %+v", inst.Reservations)
	}

	out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0checkout"}})
	if err != nil {
		t.Fatal(err)
	}
	g := out.SecurityGroups[0]
	if len(g.IpPermissions) != 2 || len(g.IpPermissions[0].IpRanges) != 2 || sdkaws.ToInt32(g.IpPermissions[0].FromPort) != 443 ||
		sdkaws.ToString(g.IpPermissions[0].IpRanges[0].Description) != "https" ||
		sdkaws.ToString(g.IpPermissions[1].UserIdGroupPairs[0].GroupId) != "sg-0db" ||
		len(g.IpPermissionsEgress) != 1 || sdkaws.ToString(g.IpPermissionsEgress[0].IpProtocol) != "-1" || g.IpPermissionsEgress[0].FromPort != nil {
		t.Errorf("group decoded as %+v", g)
	}
}

// revokeAndRestorePublic revokes exactly the public https rule, then puts it
// back.
func revokeAndRestorePublic(t *testing.T, ctx context.Context, c *ec2.Client, s *Server) {
	public := []ec2types.IpPermission{{IpProtocol: sdkaws.String("tcp"), FromPort: sdkaws.Int32(443), ToPort: sdkaws.Int32(443),
		IpRanges: []ec2types.IpRange{{CidrIp: sdkaws.String("0.0.0.0/0"), Description: sdkaws.String("https")}}}}
	if _, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: sdkaws.String("sg-0checkout"), IpPermissions: public, DryRun: sdkaws.Bool(true)}); apiCode(err) != "DryRunOperation" {
		t.Errorf("dry run revoke: %v", err)
	}
	if _, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: sdkaws.String("sg-0checkout"), IpPermissions: public}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.SecurityGroup("sg-0checkout")
	if len(got.Rules) != 3 {
		t.Errorf("after revoke: %d rules, want 3: %+v", len(got.Rules), got.Rules)
	}
	for _, r := range got.Rules {
		if r.CIDR == "0.0.0.0/0" && !r.Egress {
			t.Errorf("public rule still there: %+v", r)
		}
	}
	_, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: sdkaws.String("sg-0checkout"), IpPermissions: public})
	wantCode(t, err, "InvalidPermission.NotFound", "revoke of a revoked rule")
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sdkaws.String("sg-0checkout"), IpPermissions: public}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sdkaws.String("sg-0checkout"), IpPermissions: public})
	wantCode(t, err, "InvalidPermission.Duplicate", "authorize twice")
}

// revokeRulesByID: the rules API sees the same rules, and revokes by id.
func revokeRulesByID(t *testing.T, ctx context.Context, c *ec2.Client, s *Server) {
	rules, err := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []ec2types.Filter{{Name: sdkaws.String("group-id"), Values: []string{"sg-0checkout"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.SecurityGroupRules) != 4 {
		t.Fatalf("%d rules, want 4", len(rules.SecurityGroupRules))
	}
	var egressID string
	for _, r := range rules.SecurityGroupRules {
		if sdkaws.ToBool(r.IsEgress) {
			egressID = sdkaws.ToString(r.SecurityGroupRuleId)
		}
	}
	_, err = c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: sdkaws.String("sg-0checkout"), SecurityGroupRuleIds: []string{egressID}})
	wantCode(t, err, "InvalidSecurityGroupRuleId.NotFound", "egress rule revoked as ingress")
	if _, err := c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: sdkaws.String("sg-0checkout"), SecurityGroupRuleIds: []string{egressID}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SecurityGroup("sg-0checkout"); len(got.Rules) != 3 {
		t.Errorf("after egress revoke: %d rules, want 3", len(got.Rules))
	}
}

// groupErrorsAndPages: unknown groups and rules without ports are refused;
// groups are found by tag and paginated.
func groupErrorsAndPages(t *testing.T, ctx context.Context, c *ec2.Client, s *Server) {
	_, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-404"}})
	wantCode(t, err, "InvalidGroup.NotFound", "unknown group")
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sdkaws.String("sg-0db"),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: sdkaws.String("tcp"), IpRanges: []ec2types.IpRange{{CidrIp: sdkaws.String("10.0.0.0/8")}}}}})
	wantCode(t, err, "InvalidParameterValue", "tcp without ports")
	all, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: sdkaws.String("tag:service"), Values: []string{"checkout"}}}})
	if err != nil || len(all.SecurityGroups) != 1 {
		t.Errorf("by tag: %v, %d groups", err, len(all.SecurityGroups))
	}
	for i := 0; i < 10; i++ {
		if err := s.AddSecurityGroup(SecurityGroup{ID: fmt.Sprintf("sg-1%02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	p := ec2.NewDescribeSecurityGroupsPaginator(c, &ec2.DescribeSecurityGroupsInput{MaxResults: sdkaws.Int32(5)})
	paged := readPages(t, 5, p.HasMorePages, p.NextPage)
	pages := len(paged)
	for _, pg := range paged {
		for _, g := range pg.SecurityGroups {
			seen[sdkaws.ToString(g.GroupId)] = true
		}
	}
	if len(seen) != 12 || pages != 3 {
		t.Errorf("paginated %d groups in %d pages, want 12 in 3", len(seen), pages)
	}
}

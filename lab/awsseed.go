package lab

import (
	"fmt"
	"time"

	"github.com/gameday/gameday/lab/aws"
)

// Resource names the lab seeds besides its hosts' instances, so every aws
// attack kind has something to land on (docs/lab-aws.md lists them).
const (
	SecurityGroupID   = "sg-0c4ec0a1ab0000001"
	FunctionName      = "checkout-pricing"
	DBClusterID       = "checkout-db"
	AutoScalingGroup  = "checkout-workers"
	ECSCluster        = "checkout"
	ECSService        = "checkout-api"
	TableName         = "checkout-carts"
	FISTemplateID     = "EXTlabcheckoutstop"
	workerInstanceIDs = 100 // the Auto Scaling group's instances start here
)

// labTags mark every seeded resource, so a target can select them by tag
// as a runbook would in an account.
func labTags(extra ...string) map[string]string {
	t := map[string]string{"service": "checkout", "env": "lab"}
	for i := 0; i+1 < len(extra); i += 2 {
		t[extra[i]] = extra[i+1]
	}
	return t
}

// seedAWS adds one resource of each kind the aws attacks act on. The hosts'
// instances sit behind the security group; the Auto Scaling group has
// instances of its own, so stopping a host is not refused as an ASG
// member's would be.
func (l *Lab) seedAWS() error {
	steps := []func() error{
		func() error {
			return l.aws.AddSecurityGroup(aws.SecurityGroup{
				ID: SecurityGroupID, Name: "checkout", Description: "checkout instances", VPC: "vpc-0lab", Tags: labTags(),
				Rules: []aws.Rule{
					{Protocol: "tcp", FromPort: 8080, ToPort: 8080, CIDR: "10.0.0.0/16", Description: "load balancer to checkout"},
					{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "10.0.0.0/16", Description: "ssh from the bastion"},
					{Egress: true, Protocol: "tcp", FromPort: 443, ToPort: 443, CIDR: "0.0.0.0/0", Description: "payments API"},
					{Egress: true, Protocol: "tcp", FromPort: 5432, ToPort: 5432, CIDR: "10.0.0.0/16", Description: "checkout-db"},
				},
			})
		},
		func() error {
			return l.aws.AddFunction(aws.Function{Name: FunctionName, Description: "prices a cart", Env: map[string]string{"CURRENCY": "EUR"}, Tags: labTags()})
		},
		func() error {
			if err := l.aws.AddDBCluster(aws.DBCluster{ID: DBClusterID, Tags: labTags()}); err != nil {
				return err
			}
			for i, az := range []string{"a", "b"} {
				err := l.aws.AddDBInstance(aws.DBInstance{ID: fmt.Sprintf("%s-%d", DBClusterID, i+1), Cluster: DBClusterID, AZ: l.AWS.Region + az, Tags: labTags()})
				if err != nil {
					return err
				}
			}
			return nil
		},
		func() error {
			var ids []string
			for i := 0; i < 2; i++ {
				id := aws.InstanceID(workerInstanceIDs + i)
				err := l.aws.AddInstance(aws.Instance{ID: id, AZ: l.AWS.Region + "a", PrivateIP: fmt.Sprintf("10.0.9.%d", 10+i), Tags: labTags("Name", fmt.Sprintf("checkout-worker-%d", i+1), "service", "checkout-worker")})
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			return l.aws.AddAutoScalingGroup(aws.AutoScalingGroup{Name: AutoScalingGroup, MinSize: 2, MaxSize: 4, Desired: 2, Instances: ids, Tags: labTags()})
		},
		func() error {
			for i := 0; i < 2; i++ {
				if _, err := l.aws.AddTask(aws.Task{Cluster: ECSCluster, Service: ECSService, Tags: labTags()}); err != nil {
					return err
				}
			}
			return nil
		},
		func() error {
			return l.aws.AddTable(aws.Table{Name: TableName, Read: 20, Write: 10, Tags: labTags()})
		},
		func() error {
			return l.aws.AddTemplate(aws.Template{ID: FISTemplateID, Description: "stop one checkout instance", Duration: 5 * time.Minute,
				Actions: map[string]string{"stop": "aws:ec2:stop-instances"}, Tags: labTags()})
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	}
	return nil
}

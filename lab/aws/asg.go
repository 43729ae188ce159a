package aws

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// scalingProcesses are the processes SuspendProcesses knows, in EC2 Auto
// Scaling's order.
var scalingProcesses = []string{"Launch", "Terminate", "AddToLoadBalancer", "AlarmNotification", "AZRebalance", "HealthCheck", "InstanceRefresh", "ReplaceUnhealthy", "ScheduledActions"}

// AutoScalingGroup is an EC2 Auto Scaling group.
type AutoScalingGroup struct {
	Name                      string // required
	MinSize, MaxSize, Desired int
	// Instances are EC2 instance ids; those seeded with AddInstance report
	// their own zone and state.
	Instances []string
	AZs       []string // default the region's "a" zone
	Tags      map[string]string
	// Suspended maps each suspended process to the reason EC2 Auto Scaling
	// gives; read back after Suspend/ResumeProcesses.
	Suspended map[string]string
}

type asGroup struct {
	AutoScalingGroup
	created time.Time
}

// AddAutoScalingGroup seeds an Auto Scaling group.
func (s *Server) AddAutoScalingGroup(g AutoScalingGroup) error {
	if g.Name == "" {
		return fmt.Errorf("lab/aws: Auto Scaling group without a name")
	}
	if len(g.AZs) == 0 {
		g.AZs = []string{s.opts.Region + "a"}
	}
	g.Instances = append([]string(nil), g.Instances...)
	g.Tags = copyTags(g.Tags)
	g.Suspended = copyTags(g.Suspended)
	return seed(s, s.asGroups, "Auto Scaling group", g.Name, &asGroup{AutoScalingGroup: g, created: s.opts.Now()}, func() {
		// EC2 Auto Scaling tags the instances it manages with their group,
		// which is how a tool can tell, from the instance alone, that
		// stopping it will have the group replace it.
		for _, id := range g.Instances {
			if in := s.instances[id]; in != nil {
				if in.Tags == nil {
					in.Tags = map[string]string{}
				}
				in.Tags[ASGTag] = g.Name
			}
		}
	})
}

// ASGTag is the tag EC2 Auto Scaling puts on the instances of a group.
const ASGTag = "aws:autoscaling:groupName"

// AutoScalingGroup returns a copy of a group's current state.
func (s *Server) AutoScalingGroup(name string) (AutoScalingGroup, bool) {
	return readBack(s, s.asGroups, name, func(g *asGroup) AutoScalingGroup {
		out := g.AutoScalingGroup
		out.Instances = append([]string(nil), g.Instances...)
		out.Tags = copyTags(g.Tags)
		out.Suspended = copyTags(g.Suspended)
		return out
	})
}

// autoscalingAPI is the EC2 Auto Scaling actions served.
func (s *Server) autoscalingAPI() queryAPI {
	return queryAPI{unknown: "Could not find operation %s for version 2011-01-01", actions: map[string]queryHandler{
		"DescribeAutoScalingGroups": formOnly(s.describeAutoScalingGroups),
		"SuspendProcesses":          s.suspendResume,
		"ResumeProcesses":           s.suspendResume,
	}}
}

// asgPaging: MaxRecords 1 to 100, default 50, and NextToken.
var asgPaging = paging{50, 1, 100, "ValidationError", "MaxRecords %s: expected 1 to 100", "InvalidNextToken", "The token is not valid."}

type asgInstanceXML struct {
	ID        string `xml:"InstanceId"`
	AZ        string `xml:"AvailabilityZone"`
	Lifecycle string `xml:"LifecycleState"`
	Health    string `xml:"HealthStatus"`
	Type      string `xml:"InstanceType,omitempty"`
	Protected bool   `xml:"ProtectedFromScaleIn"`
}

type asgTagXML struct {
	Key          string `xml:"Key"`
	Value        string `xml:"Value"`
	Propagate    bool   `xml:"PropagateAtLaunch"`
	ResourceID   string `xml:"ResourceId"`
	ResourceType string `xml:"ResourceType"`
}

type suspendedXML struct {
	Process string `xml:"ProcessName"`
	Reason  string `xml:"SuspensionReason"`
}

type asgXML struct {
	Name      string           `xml:"AutoScalingGroupName"`
	ARN       string           `xml:"AutoScalingGroupARN"`
	Min       int              `xml:"MinSize"`
	Max       int              `xml:"MaxSize"`
	Desired   int              `xml:"DesiredCapacity"`
	Cooldown  int              `xml:"DefaultCooldown"`
	AZs       []string         `xml:"AvailabilityZones>member"`
	Health    string           `xml:"HealthCheckType"`
	Created   string           `xml:"CreatedTime"`
	Instances []asgInstanceXML `xml:"Instances>member"`
	Suspended []suspendedXML   `xml:"SuspendedProcesses>member"`
	Tags      []asgTagXML      `xml:"Tags>member"`
}

// lifecycle is the Auto Scaling view of an EC2 state.
func lifecycle(state string) string {
	switch state {
	case StatePending:
		return "Pending"
	case StateRunning:
		return "InService"
	case StateStopping, StateStopped:
		return "Standby"
	}
	return "Terminated"
}

// asgXML is the AutoScalingGroup shape. Callers hold s.mu.
func (s *Server) asgXML(g *asGroup) asgXML {
	out := asgXML{
		Name: g.Name, ARN: s.arn("autoscaling", "autoScalingGroup:lab:autoScalingGroupName/"+g.Name),
		Min: g.MinSize, Max: g.MaxSize, Desired: g.Desired, Cooldown: 300, AZs: g.AZs, Health: "EC2", Created: isoTime(g.created),
	}
	for _, id := range g.Instances {
		item := asgInstanceXML{ID: id, AZ: g.AZs[0], Lifecycle: "InService", Health: "Healthy"}
		if in, ok := s.instances[id]; ok {
			item.AZ, item.Lifecycle, item.Type = in.AZ, lifecycle(in.State), in.Type
			if in.State != StateRunning {
				item.Health = "Unhealthy"
			}
		}
		out.Instances = append(out.Instances, item)
	}
	for _, p := range scalingProcesses {
		if reason, ok := g.Suspended[p]; ok {
			out.Suspended = append(out.Suspended, suspendedXML{p, reason})
		}
	}
	for _, t := range tagsXML(g.Tags) {
		out.Tags = append(out.Tags, asgTagXML{Key: t.Key, Value: t.Value, Propagate: true, ResourceID: g.Name, ResourceType: "auto-scaling-group"})
	}
	return out
}

// asgFields is empty: Auto Scaling groups filter by their tags only.
var asgFields = fieldSet[*asGroup]{}

func (s *Server) describeAutoScalingGroups(c *call, form url.Values) (any, *apiError) {
	names := indexed(form, "AutoScalingGroupNames.member")
	var filters []filter
	for _, i := range members(form, "Filters.member") {
		p := "Filters.member." + strconv.Itoa(i)
		f := filter{name: form.Get(p + ".Name"), values: indexed(form, p+".Values.member")}
		if !strings.HasPrefix(f.name, "tag:") && f.name != "tag-key" && f.name != "tag-value" {
			return nil, &apiError{status: 400, code: "ValidationError", msg: fmt.Sprintf("Filter name %q is not valid (tag:<key>, tag-key and tag-value are)", f.name)}
		}
		filters = append(filters, f)
	}
	size, offset, aerr := asgPaging.read(form.Get("MaxRecords"), form.Get("NextToken"))
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var keys []string
	for name, g := range s.asGroups {
		if (len(names) == 0 || want[name]) && asgFields.match(filters, g, g.Tags) {
			keys = append(keys, name)
		}
	}
	sort.Strings(keys)
	from, to, next := page(len(keys), offset, size)
	out := make([]asgXML, 0, to-from)
	for _, name := range keys[from:to] {
		out = append(out, s.asgXML(s.asGroups[name]))
	}
	return queryAnswer(c, "DescribeAutoScalingGroups", struct {
		XMLName   xml.Name
		Groups    []asgXML `xml:"AutoScalingGroups>member"`
		NextToken string   `xml:"NextToken,omitempty"`
	}{resultName("DescribeAutoScalingGroups"), out, next}), nil
}

// suspendResume suspends or resumes the named processes, all of them when
// none are named.
func (s *Server) suspendResume(c *call, action string, form url.Values) (any, *apiError) {
	name := form.Get("AutoScalingGroupName")
	procs := indexed(form, "ScalingProcesses.member")
	for _, p := range procs {
		known := false
		for _, k := range scalingProcesses {
			known = known || p == k
		}
		if !known {
			return nil, &apiError{status: 400, code: "ValidationError", msg: fmt.Sprintf("Scaling process %q is not valid (expected one of %s)", p, strings.Join(scalingProcesses, ", "))}
		}
	}
	if len(procs) == 0 {
		procs = scalingProcesses
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.asGroups[name]
	if !ok {
		return nil, &apiError{status: 400, code: "ValidationError", msg: fmt.Sprintf("AutoScalingGroup name not found - %s", name)}
	}
	for _, p := range procs {
		if action == "ResumeProcesses" {
			delete(g.Suspended, p)
		} else if _, already := g.Suspended[p]; !already {
			g.Suspended[p] = fmt.Sprintf("User suspended at %s", s.opts.Now().UTC().Format("2006-01-02T15:04:05Z"))
		}
	}
	return queryAnswer(c, action, nil), nil
}

package aws

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const ec2NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

// Instance states, as EC2 names them.
const (
	StatePending      = "pending"
	StateRunning      = "running"
	StateStopping     = "stopping"
	StateStopped      = "stopped"
	StateShuttingDown = "shutting-down"
	StateTerminated   = "terminated"
)

var stateCodes = map[string]int{
	StatePending: 0, StateRunning: 16, StateShuttingDown: 32,
	StateTerminated: 48, StateStopping: 64, StateStopped: 80,
}

// Instance is an EC2 instance as seeded and as read back.
type Instance struct {
	ID         string // i-..., required
	State      string // default running
	AZ         string // default the region's "a" zone
	VPC        string
	Subnet     string
	Type       string // default t3.micro
	PrivateIP  string
	ImageID    string
	LaunchTime time.Time // default the time it was added
	Tags       map[string]string
	// SecurityGroups are the ids of the groups attached (seeded with
	// AddSecurityGroup; an unknown id is listed without a name).
	SecurityGroups []string
}

type instance struct {
	Instance
	// gen changes with every state change so a transition scheduled before
	// it does nothing when its timer fires.
	gen int
}

// InstanceID formats n as an EC2-style instance id, for seeding fleets.
func InstanceID(n int) string { return fmt.Sprintf("i-%017x", n) }

// AddInstance seeds an instance. The id must start with "i-" and be new.
func (s *Server) AddInstance(in Instance) error { return s.AddInstances([]Instance{in}) }

// Instance returns a copy of an instance's current state.
func (s *Server) Instance(id string) (Instance, bool) {
	return readBack(s, s.instances, id, func(in *instance) Instance {
		out := in.Instance
		out.Tags = copyTags(in.Tags)
		out.SecurityGroups = append([]string(nil), in.SecurityGroups...)
		return out
	})
}

// SetInstanceState puts an instance in a state directly, as when the lab
// sees its host die. The InstanceState hook is not called: the lab already
// knows.
func (s *Server) SetInstanceState(id, state string) error {
	if _, ok := stateCodes[state]; !ok {
		return fmt.Errorf("lab/aws: instance %s: state %q: expected one of pending, running, stopping, stopped, shutting-down, terminated", id, state)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return fmt.Errorf("lab/aws: instance %s does not exist", id)
	}
	in.State = state
	in.gen++
	return nil
}

func copyTags(tags map[string]string) map[string]string {
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		out[k] = v
	}
	return out
}

// setState moves in to state and tells the lab. Callers hold s.mu.
func (s *Server) setState(in *instance, state string) {
	in.State = state
	in.gen++
	s.instanceHook(in.ID, state)
}

func (s *Server) instanceHook(id, state string) {
	if fn := s.opts.Hooks.InstanceState; fn != nil {
		s.hooks.push(func() { fn(id, state) })
	}
}

// later moves in to state after the transition delay, unless something
// else changed it first.
func (s *Server) later(in *instance, state string) {
	s.unlessChanged(s.opts.TransitionDelay, &in.gen, func() { s.setState(in, state) })
}

// ec2API is the EC2 actions served.
func (s *Server) ec2API() queryAPI {
	return queryAPI{unknown: "The action %s is not valid for this web service.", actions: map[string]queryHandler{
		"DescribeInstances":             formOnly(s.describeInstances),
		"StartInstances":                s.changeInstances,
		"StopInstances":                 s.changeInstances,
		"TerminateInstances":            s.changeInstances,
		"RebootInstances":               s.changeInstances,
		"CreateTags":                    formOnly(s.createTags),
		"DescribeSecurityGroups":        formOnly(s.describeSecurityGroups),
		"DescribeSecurityGroupRules":    formOnly(s.describeSecurityGroupRules),
		"AuthorizeSecurityGroupIngress": s.authorizeRules,
		"AuthorizeSecurityGroupEgress":  s.authorizeRules,
		"RevokeSecurityGroupIngress":    s.revokeRules,
		"RevokeSecurityGroupEgress":     s.revokeRules,
	}}
}

type ec2StateXML struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type ec2TagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type ec2InstanceXML struct {
	InstanceID   string      `xml:"instanceId"`
	ImageID      string      `xml:"imageId,omitempty"`
	State        ec2StateXML `xml:"instanceState"`
	InstanceType string      `xml:"instanceType"`
	LaunchTime   string      `xml:"launchTime"`
	AZ           string      `xml:"placement>availabilityZone"`
	SubnetID     string      `xml:"subnetId,omitempty"`
	VpcID        string      `xml:"vpcId,omitempty"`
	PrivateIP    string      `xml:"privateIpAddress,omitempty"`
	Groups       []groupXML  `xml:"groupSet>item"`
	Tags         []ec2TagXML `xml:"tagSet>item"`
}

type groupXML struct {
	ID   string `xml:"groupId"`
	Name string `xml:"groupName,omitempty"`
}

type ec2ReservationXML struct {
	ReservationID string           `xml:"reservationId"`
	OwnerID       string           `xml:"ownerId"`
	Instances     []ec2InstanceXML `xml:"instancesSet>item"`
}

func stateXML(state string) ec2StateXML { return ec2StateXML{stateCodes[state], state} }

func tagsXML(m map[string]string) []ec2TagXML {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tags := make([]ec2TagXML, len(keys))
	for i, k := range keys {
		tags[i] = ec2TagXML{k, m[k]}
	}
	return tags
}

// instanceXML is the Instance shape. Callers hold s.mu.
func (s *Server) instanceXML(in *instance) ec2InstanceXML {
	groups := make([]groupXML, len(in.SecurityGroups))
	for i, id := range in.SecurityGroups {
		groups[i] = groupXML{ID: id}
		if g, ok := s.groups[id]; ok {
			groups[i].Name = g.Name
		}
	}
	return ec2InstanceXML{
		InstanceID: in.ID, ImageID: in.ImageID, State: stateXML(in.State),
		InstanceType: in.Type, LaunchTime: in.LaunchTime.UTC().Format("2006-01-02T15:04:05.000Z"),
		AZ: in.AZ, SubnetID: in.Subnet, VpcID: in.VPC, PrivateIP: in.PrivateIP, Groups: groups, Tags: tagsXML(in.Tags),
	}
}

// filter is one EC2 Filter: any of values matches, all filters must.
type filter struct {
	name   string
	values []string
}

// fieldSet names the filters a kind of resource has besides its tags, and
// the values a resource holds for each.
type fieldSet[T any] map[string]func(T) []string

// parse reads Filter.N.Name / Filter.N.Value.M, refusing names fs lacks.
func (fs fieldSet[T]) parse(form url.Values) ([]filter, *apiError) {
	var out []filter
	for _, i := range members(form, "Filter") {
		p := "Filter." + strconv.Itoa(i)
		f := filter{name: form.Get(p + ".Name"), values: indexed(form, p+".Value")}
		switch {
		case strings.HasPrefix(f.name, "tag:"), f.name == "tag-key", f.name == "tag-value", fs[f.name] != nil:
		case f.name == "":
			return nil, &apiError{status: 400, code: "InvalidParameterValue", msg: fmt.Sprintf("The filter %s has no Name", p)}
		default:
			return nil, &apiError{status: 400, code: "InvalidParameterValue", msg: fmt.Sprintf("The filter '%s' is invalid", f.name)}
		}
		out = append(out, f)
	}
	return out, nil
}

// match says whether r, with its tags, passes every filter: any of a
// filter's values may match.
func (fs fieldSet[T]) match(filters []filter, r T, tags map[string]string) bool {
	for _, f := range filters {
		if !f.match(tags, func() []string { return fs[f.name](r) }) {
			return false
		}
	}
	return true
}

func (f filter) match(tags map[string]string, values func() []string) bool {
	anyOf := func(v string) bool {
		for _, want := range f.values {
			if wildcard(want, v) {
				return true
			}
		}
		return false
	}
	switch {
	case strings.HasPrefix(f.name, "tag:"):
		v, ok := tags[f.name[4:]]
		return ok && anyOf(v)
	case f.name == "tag-key", f.name == "tag-value":
		for k, v := range tags {
			if (f.name == "tag-key" && anyOf(k)) || (f.name == "tag-value" && anyOf(v)) {
				return true
			}
		}
		return false
	}
	for _, v := range values() {
		if anyOf(v) {
			return true
		}
	}
	return false
}

func one(v string) []string { return []string{v} }

// instanceFields are the instance filters besides tags.
var instanceFields = fieldSet[*instance]{
	"instance-state-name": func(in *instance) []string { return one(in.State) },
	"instance-state-code": func(in *instance) []string { return one(strconv.Itoa(stateCodes[in.State])) },
	"availability-zone":   func(in *instance) []string { return one(in.AZ) },
	"vpc-id":              func(in *instance) []string { return one(in.VPC) },
	"subnet-id":           func(in *instance) []string { return one(in.Subnet) },
	"instance-id":         func(in *instance) []string { return one(in.ID) },
	"instance-type":       func(in *instance) []string { return one(in.Type) },
	"private-ip-address":  func(in *instance) []string { return one(in.PrivateIP) },
	"image-id":            func(in *instance) []string { return one(in.ImageID) },
	"instance.group-id":   func(in *instance) []string { return in.SecurityGroups },
}

// wildcard matches v against an EC2 filter value, where * is any run of
// characters and ? any one character.
func wildcard(pattern, v string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == v
	}
	p, s := []rune(pattern), []rune(v)
	star, mark := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(p) && (p[i] == '?' || p[i] == s[j]):
			i++
			j++
		case i < len(p) && p[i] == '*':
			star, mark = i, j
			i++
		case star >= 0:
			i = star + 1
			mark++
			j = mark
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}

// lookup resolves ids, failing as EC2 does on malformed or unknown ones.
// Callers hold s.mu.
func (s *Server) lookup(ids []string) ([]*instance, *apiError) {
	var missing []string
	out := make([]*instance, 0, len(ids))
	for _, id := range ids {
		if !strings.HasPrefix(id, "i-") {
			return nil, &apiError{status: 400, code: "InvalidInstanceID.Malformed", msg: fmt.Sprintf("Invalid id: %q (expecting \"i-...\")", id)}
		}
		in, ok := s.instances[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		out = append(out, in)
	}
	switch len(missing) {
	case 0:
		return out, nil
	case 1:
		return nil, &apiError{status: 400, code: "InvalidInstanceID.NotFound", msg: fmt.Sprintf("The instance ID '%s' does not exist", missing[0])}
	default:
		return nil, &apiError{status: 400, code: "InvalidInstanceID.NotFound", msg: fmt.Sprintf("The instance IDs '%s' do not exist", strings.Join(missing, ", "))}
	}
}

// dryRun answers a DryRun request as EC2 does once it knows the call would
// succeed: with the DryRunOperation error.
func dryRun(form url.Values) *apiError {
	dry, aerr := formBool(form, "DryRun")
	if aerr != nil {
		return aerr
	}
	if dry {
		return &apiError{status: 412, code: "DryRunOperation", msg: "Request would have succeeded, but DryRun flag is set."}
	}
	return nil
}

// target resolves the instances an action names and applies DryRun after
// the ids are known to exist. Callers hold s.mu.
func (s *Server) target(ids []string, form url.Values) ([]*instance, *apiError) {
	found, aerr := s.lookup(ids)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := dryRun(form); aerr != nil {
		return nil, aerr
	}
	return found, nil
}

// ec2Page reads MaxResults (5 to 1000, not with explicit ids, which EC2
// names by their list, e.g. instancesSet) and NextToken. A limit of 0 means
// everything in one page.
func ec2Page(form url.Values, hasIDs bool, idsName string) (limit int, after string, aerr *apiError) {
	if v := form.Get("MaxResults"); v != "" {
		if hasIDs {
			return 0, "", &apiError{status: 400, code: "InvalidParameterCombination", msg: fmt.Sprintf("The parameter %s cannot be used with the parameter maxResults", idsName)}
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 1000 {
			return 0, "", errInvalidParameter(fmt.Sprintf("Value ( %s ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", v))
		}
		limit = n
	}
	if tok := form.Get("NextToken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		rest, ok := strings.CutPrefix(string(raw), "after:")
		if err != nil || !ok {
			return 0, "", errInvalidParameter(fmt.Sprintf("Value (%s) for parameter nextToken is invalid.", tok))
		}
		after = rest
	}
	return limit, after, nil
}

// describeArgs reads what every Describe call shares: filters, DryRun,
// MaxResults and NextToken.
func describeArgs[T any](fs fieldSet[T], form url.Values, hasIDs bool, idsName string) (filters []filter, limit int, after string, aerr *apiError) {
	if filters, aerr = fs.parse(form); aerr != nil {
		return nil, 0, "", aerr
	}
	if aerr = dryRun(form); aerr != nil {
		return nil, 0, "", aerr
	}
	limit, after, aerr = ec2Page(form, hasIDs, idsName)
	return filters, limit, after, aerr
}

// cursorToken is a NextToken that resumes after id, so items added or
// changed between pages are neither repeated nor skipped.
func cursorToken(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("after:" + id))
}

// cursorPage is one page of a Describe call: the candidates that keep, in order,
// up to limit (0: all), and the NextToken that resumes after the last one
// given when more remain.
func cursorPage[T, X any](candidates []T, limit int, keep func(T) bool, id func(T) string, render func(T) X) ([]X, string) {
	var out []X
	last := ""
	for _, c := range candidates {
		if !keep(c) {
			continue
		}
		if limit > 0 && len(out) == limit {
			return out, cursorToken(last)
		}
		out = append(out, render(c))
		last = id(c)
	}
	return out, ""
}

func (s *Server) describeInstances(c *call, form url.Values) (any, *apiError) {
	ids := indexed(form, "InstanceId")
	filters, limit, after, aerr := describeArgs(instanceFields, form, len(ids) > 0, "instancesSet")
	if aerr != nil {
		return nil, aerr
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var candidates []*instance
	if len(ids) > 0 {
		found, aerr := s.lookup(ids)
		if aerr != nil {
			return nil, aerr
		}
		candidates = found
	} else {
		start := 0
		if after != "" {
			start = sort.Search(len(s.order), func(i int) bool { return s.order[i] > after })
		}
		candidates = make([]*instance, 0, len(s.order)-start)
		for _, id := range s.order[start:] {
			candidates = append(candidates, s.instances[id])
		}
	}
	res, next := cursorPage(candidates, limit,
		func(in *instance) bool { return instanceFields.match(filters, in, in.Tags) },
		func(in *instance) string { return in.ID },
		func(in *instance) ec2ReservationXML {
			return ec2ReservationXML{ReservationID: "r-" + strings.TrimPrefix(in.ID, "i-"), OwnerID: s.opts.Account, Instances: []ec2InstanceXML{s.instanceXML(in)}}
		})
	return struct {
		XMLName      xml.Name            `xml:"DescribeInstancesResponse"`
		NS           string              `xml:"xmlns,attr"`
		RequestID    string              `xml:"requestId"`
		Reservations []ec2ReservationXML `xml:"reservationSet>item"`
		NextToken    string              `xml:"nextToken,omitempty"`
	}{NS: ec2NS, RequestID: c.reqID, Reservations: res, NextToken: next}, nil
}

type ec2ChangeXML struct {
	InstanceID string      `xml:"instanceId"`
	Current    ec2StateXML `xml:"currentState"`
	Previous   ec2StateXML `xml:"previousState"`
}

// changeInstances runs Start/Stop/Reboot/TerminateInstances. The whole call
// fails, changing nothing, if any instance is unknown or in a state the
// action cannot leave from, as EC2 does.
func (s *Server) changeInstances(c *call, action string, form url.Values) (any, *apiError) {
	ids := indexed(form, "InstanceId")
	if len(ids) == 0 {
		return nil, &apiError{status: 400, code: "MissingParameter", msg: "The request must contain the parameter InstanceId"}
	}
	if _, aerr := formBool(form, "Force"); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found, aerr := s.target(ids, form)
	if aerr != nil {
		return nil, aerr
	}
	verb := map[string]string{"StartInstances": "started", "StopInstances": "stopped", "RebootInstances": "rebooted", "TerminateInstances": "terminated"}[action]
	for _, in := range found {
		if !allowed(action, in.State) {
			return nil, &apiError{status: 400, code: "IncorrectInstanceState", msg: fmt.Sprintf("The instance '%s' is not in a state from which it can be %s.", in.ID, verb)}
		}
	}
	changes := make([]ec2ChangeXML, 0, len(found))
	for _, in := range found {
		prev := in.State
		switch action {
		case "StopInstances":
			if in.State == StateRunning {
				s.setState(in, StateStopping)
				s.later(in, StateStopped)
			}
		case "StartInstances":
			if in.State == StateStopped {
				s.setState(in, StatePending)
				s.later(in, StateRunning)
			}
		case "TerminateInstances":
			if in.State != StateTerminated && in.State != StateShuttingDown {
				s.setState(in, StateShuttingDown)
				s.later(in, StateTerminated)
			}
		case "RebootInstances":
			// EC2 keeps reporting running through a reboot; only the lab
			// sees the host go down and come back.
			in.gen++
			s.instanceHook(in.ID, "rebooting")
			s.later(in, StateRunning)
		}
		changes = append(changes, ec2ChangeXML{InstanceID: in.ID, Current: stateXML(in.State), Previous: stateXML(prev)})
	}
	if action == "RebootInstances" {
		return ec2Done(c, action), nil
	}
	return struct {
		XMLName   xml.Name
		NS        string         `xml:"xmlns,attr"`
		RequestID string         `xml:"requestId"`
		Changes   []ec2ChangeXML `xml:"instancesSet>item"`
	}{XMLName: xml.Name{Local: action + "Response"}, NS: ec2NS, RequestID: c.reqID, Changes: changes}, nil
}

// allowed says whether action may be applied to an instance in state.
// Repeating a stop, start or terminate that is under way succeeds and
// changes nothing, as on EC2.
func allowed(action, state string) bool {
	switch action {
	case "StopInstances":
		return state == StateRunning || state == StateStopping || state == StateStopped
	case "StartInstances":
		return state == StateStopped || state == StatePending || state == StateRunning
	case "RebootInstances":
		return state == StateRunning
	case "TerminateInstances":
		return true
	}
	return false
}

func (s *Server) createTags(c *call, form url.Values) (any, *apiError) {
	ids := indexed(form, "ResourceId")
	if len(ids) == 0 {
		return nil, &apiError{status: 400, code: "MissingParameter", msg: "The request must contain the parameter ResourceId"}
	}
	tags := map[string]string{}
	for _, i := range members(form, "Tag") {
		p := "Tag." + strconv.Itoa(i)
		k := form.Get(p + ".Key")
		if k == "" {
			return nil, errInvalidParameter(fmt.Sprintf("Tag key in %s.Key must not be empty", p))
		}
		tags[k] = form.Get(p + ".Value")
	}
	for _, id := range ids {
		if !strings.HasPrefix(id, "i-") {
			return nil, &apiError{status: 400, code: "InvalidID", msg: fmt.Sprintf("The ID '%s' is not valid: only instances (i-...) can be tagged here", id)}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found, aerr := s.target(ids, form)
	if aerr != nil {
		return nil, aerr
	}
	for _, in := range found {
		for k, v := range tags {
			in.Tags[k] = v
		}
	}
	return ec2Done(c, "CreateTags"), nil
}

// ec2Done is the answer of an EC2 action that reports only that it was
// done: RebootInstances and CreateTags say no more than <return>true.
func ec2Done(c *call, action string) any {
	return struct {
		XMLName   xml.Name
		NS        string `xml:"xmlns,attr"`
		RequestID string `xml:"requestId"`
		Return    bool   `xml:"return"`
	}{XMLName: xml.Name{Local: action + "Response"}, NS: ec2NS, RequestID: c.reqID, Return: true}
}

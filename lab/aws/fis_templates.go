package aws

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Experiment templates made through the API (CreateExperimentTemplate)
// carry real actions: while an experiment of one runs, the endpoint applies
// them to its instances and functions, and a timer of its own lifts them at
// their duration, whoever is still around to ask.

// fisTarget is one of a template's targets: the resources an action acts on.
type fisTarget struct {
	ResourceType  string            `json:"resourceType"`
	ResourceArns  []string          `json:"resourceArns,omitempty"`
	ResourceTags  map[string]string `json:"resourceTags,omitempty"`
	SelectionMode string            `json:"selectionMode"`
}

// fisAction is one of a template's actions.
type fisAction struct {
	ActionID    string            `json:"actionId"`
	Description string            `json:"description,omitempty"`
	Parameters  map[string]string `json:"parameters,omitempty"`
	Targets     map[string]string `json:"targets,omitempty"`
}

type stopCondition struct {
	Source string `json:"source"`
	Value  string `json:"value,omitempty"`
}

// fisActions are the actions the endpoint carries out, with the target
// each takes and the resource type that target must name.
var fisActions = map[string]struct{ target, resourceType string }{
	"aws:ec2:stop-instances":          {"Instances", "aws:ec2:instance"},
	"aws:ssm:send-command":            {"Instances", "aws:ec2:instance"},
	"aws:lambda:invocation-error":     {"Functions", "aws:lambda:function"},
	"aws:lambda:invocation-add-delay": {"Functions", "aws:lambda:function"},
}

var isoDurationRE = regexp.MustCompile(`^PT(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+(?:\.[0-9]+)?)S)?$`)

// parseISODuration reads the ISO 8601 durations FIS parameters use (PT5M,
// PT1H30M, PT90S).
func parseISODuration(v string) (time.Duration, bool) {
	m := isoDurationRE.FindStringSubmatch(v)
	if m == nil || v == "PT" {
		return 0, false
	}
	var d time.Duration
	for i, unit := range []time.Duration{time.Hour, time.Minute} {
		if m[i+1] != "" {
			n, _ := strconv.Atoi(m[i+1])
			d += time.Duration(n) * unit
		}
	}
	if m[3] != "" {
		f, _ := strconv.ParseFloat(m[3], 64)
		d += time.Duration(f * float64(time.Second))
	}
	return d, true
}

func (s *Server) createTemplate(c *call, _ string) (any, *apiError) {
	var in struct {
		ClientToken    string               `json:"clientToken"`
		Description    string               `json:"description"`
		RoleArn        string               `json:"roleArn"`
		StopConditions []stopCondition      `json:"stopConditions"`
		Targets        map[string]fisTarget `json:"targets"`
		Actions        map[string]fisAction `json:"actions"`
		Tags           map[string]string    `json:"tags"`
	}
	if aerr := decodeJSON(c.body, &in); aerr != nil {
		return nil, aerr
	}
	t, aerr := s.checkTemplate(in.Description, in.RoleArn, in.StopConditions, in.Targets, in.Actions)
	if aerr != nil {
		return nil, aerr
	}
	t.Tags = copyTags(in.Tags)
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.ClientToken != "" {
		for _, id := range s.tmplOrder {
			if old := s.templates[id]; old.clientToken == in.ClientToken {
				return map[string]any{"experimentTemplate": s.templateJSON(old, true)}, nil
			}
		}
	}
	t.ID = "EXT" + strings.ToUpper(strings.ReplaceAll(newID(), "-", "")[:14])
	t.created = s.opts.Now()
	t.clientToken = in.ClientToken
	s.templates[t.ID] = t
	s.tmplOrder = append(s.tmplOrder, t.ID)
	return map[string]any{"experimentTemplate": s.templateJSON(t, true)}, nil
}

// checkTemplate checks a template as FIS would for the actions served, and
// works out how long its experiments run: until the longest action ends.
func (s *Server) checkTemplate(desc, role string, stops []stopCondition, targets map[string]fisTarget, actions map[string]fisAction) (*template, *apiError) {
	if desc == "" {
		return nil, fisInvalid("description is required")
	}
	if !strings.HasPrefix(role, "arn:aws:iam::") || !strings.Contains(role, ":role/") {
		return nil, fisInvalid(fmt.Sprintf("roleArn %q: expected an IAM role ARN", role))
	}
	if len(stops) == 0 {
		return nil, fisInvalid("stopConditions is required (use source none for no stop condition)")
	}
	for _, sc := range stops {
		if sc.Source != "none" && (sc.Source != "aws:cloudwatch:alarm" || !strings.Contains(sc.Value, ":alarm:")) {
			return nil, fisInvalid(fmt.Sprintf("stop condition %s %q: expected source none, or aws:cloudwatch:alarm with an alarm ARN", sc.Source, sc.Value))
		}
	}
	if len(actions) == 0 {
		return nil, fisInvalid("actions: at least one action is required")
	}
	t := &template{Template: Template{Description: desc, Actions: map[string]string{}}, role: role, stops: stops, targets: targets, actions: actions}
	for name, a := range actions {
		spec, ok := fisActions[a.ActionID]
		if !ok {
			known := make([]string, 0, len(fisActions))
			for id := range fisActions {
				known = append(known, id)
			}
			sort.Strings(known)
			return nil, fisInvalid(fmt.Sprintf("actions.%s: action %q is not served by this endpoint (%s are)", name, a.ActionID, strings.Join(known, ", ")))
		}
		tn := a.Targets[spec.target]
		tg, ok := targets[tn]
		if !ok || len(a.Targets) != 1 {
			return nil, fisInvalid(fmt.Sprintf("actions.%s: %s takes one target, %s, naming one of the template's targets", name, a.ActionID, spec.target))
		}
		if tg.ResourceType != spec.resourceType || len(tg.ResourceArns) == 0 {
			return nil, fisInvalid(fmt.Sprintf("targets.%s: %s needs resourceType %s and resourceArns", tn, a.ActionID, spec.resourceType))
		}
		d, aerr := actionDuration(name, a)
		if aerr != nil {
			return nil, aerr
		}
		t.Duration = max(t.Duration, d)
		t.Actions[name] = a.ActionID
	}
	// An action that ends at once (a stop with no restart) still takes the
	// transition to show running.
	t.Duration = max(t.Duration, s.opts.TransitionDelay)
	return t, nil
}

// actionDuration is how long an action lasts, from its parameters.
func actionDuration(name string, a fisAction) (time.Duration, *apiError) {
	key := "duration"
	if a.ActionID == "aws:ec2:stop-instances" {
		key = "startInstancesAfterDuration"
		if a.Parameters[key] == "" {
			return 0, nil // the instances stay stopped
		}
	}
	v := a.Parameters[key]
	d, ok := parseISODuration(v)
	if !ok || d <= 0 {
		return 0, fisInvalid(fmt.Sprintf("actions.%s.parameters.%s: expected an ISO 8601 duration such as PT5M, found %q", name, key, v))
	}
	if d > 12*time.Hour {
		return 0, fisInvalid(fmt.Sprintf("actions.%s.parameters.%s: at most PT12H", name, key))
	}
	return d, nil
}

func (s *Server) deleteTemplate(c *call, id string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.templates[id]
	if !ok {
		return nil, fisNotFound("Experiment template", id)
	}
	out := map[string]any{"experimentTemplate": s.templateJSON(t, true)}
	delete(s.templates, id)
	for i, tid := range s.tmplOrder {
		if tid == id {
			s.tmplOrder = append(s.tmplOrder[:i], s.tmplOrder[i+1:]...)
			break
		}
	}
	return out, nil
}

// apply carries out e's actions as it starts running, and arms what lifts
// each at its duration. Callers hold s.mu.
func (s *Server) apply(e *experiment, t *template) {
	for _, a := range t.actions {
		spec := fisActions[a.ActionID]
		arns := t.targets[a.Targets[spec.target]].ResourceArns
		switch a.ActionID {
		case "aws:ec2:stop-instances":
			restart := a.Parameters["startInstancesAfterDuration"] != ""
			for _, arn := range arns {
				in := s.instances[arn[strings.LastIndex(arn, "/")+1:]]
				if in == nil || in.State != StateRunning {
					continue
				}
				s.setState(in, StateStopping)
				s.later(in, StateStopped)
				if restart {
					d, _ := parseISODuration(a.Parameters["startInstancesAfterDuration"])
					s.liftAt(e, d, func() { s.restart(in) })
				}
			}
		case "aws:ssm:send-command":
			var params map[string][]string
			if err := json.Unmarshal([]byte(a.Parameters["documentParameters"]), &params); err != nil {
				e.Reason = "documentParameters: " + err.Error()
				continue
			}
			d, _ := parseISODuration(a.Parameters["duration"])
			ids := make([]string, len(arns))
			for i, arn := range arns {
				ids[i] = arn[strings.LastIndex(arn, "/")+1:]
			}
			in := &sendCommandInput{DocumentName: runShellScript, InstanceIds: ids, Parameters: params, MaxConcurrency: "100%", MaxErrors: "100%"}
			cmd, aerr := s.startCommandLocked(in, 3600, d)
			if aerr != nil {
				e.Reason = aerr.msg
				continue
			}
			s.liftAt(e, d, func() { _ = s.cancelLocked(cmd, nil) })
		case "aws:lambda:invocation-error", "aws:lambda:invocation-add-delay":
			for _, arn := range arns {
				f := s.functions[arn[strings.LastIndex(arn, ":")+1:]]
				if f == nil {
					continue
				}
				f.FISFaults = append(f.FISFaults, a.ActionID)
				id := a.ActionID
				d, _ := parseISODuration(a.Parameters["duration"])
				s.liftAt(e, d, func() {
					if i := slices.Index(f.FISFaults, id); i >= 0 {
						f.FISFaults = append(f.FISFaults[:i], f.FISFaults[i+1:]...)
					}
				})
			}
		}
	}
}

// restart starts an instance FIS stopped, once it is stopped: one that is
// still stopping is started when it gets there. Callers hold s.mu.
func (s *Server) restart(in *instance) {
	switch in.State {
	case StateStopped:
		s.setState(in, StatePending)
		s.later(in, StateRunning)
	case StateStopping:
		time.AfterFunc(s.opts.TransitionDelay, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if !s.closed {
				s.restart(in)
			}
		})
	}
}

// liftAt adds undo to what e lifts when it ends, and runs it after d if the
// experiment is still going then: FIS's own timer, not its caller's.
// Callers hold s.mu.
func (s *Server) liftAt(e *experiment, d time.Duration, undo func()) {
	done := false
	once := func() {
		if !done {
			done = true
			undo()
		}
	}
	e.lift = append(e.lift, once)
	time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closed {
			once()
		}
	})
}

// liftAll undoes what e's actions applied. Callers hold s.mu.
func (s *Server) liftAll(e *experiment) {
	for _, fn := range e.lift {
		fn()
	}
	e.lift = nil
}

// SetAlarm puts a CloudWatch alarm in or out of ALARM. Experiments whose
// template stops on it stop, as FIS stops them on a stop condition.
func (s *Server) SetAlarm(arn string, alarm bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.alarms == nil {
		s.alarms = map[string]bool{}
	}
	s.alarms[arn] = alarm
	if !alarm {
		return
	}
	for _, id := range s.expOrder {
		e := s.exps[id]
		t := s.templates[e.TemplateID]
		if t == nil || (e.Status != "initiating" && e.Status != "running") {
			continue
		}
		for _, sc := range t.stops {
			if sc.Source == "aws:cloudwatch:alarm" && sc.Value == arn {
				s.stopLocked(e, "Experiment stopped by stop condition "+arn+".")
				break
			}
		}
	}
}

package aws

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Template is a FIS experiment template an experiment can be started from.
type Template struct {
	ID          string // EXT..., required
	Description string
	// Duration is how long an experiment runs before it completes on its
	// own. Default one minute.
	Duration time.Duration
	// FailReason, when set, makes experiments end failed with this reason
	// instead of completed.
	FailReason string
	// Actions names the template's actions by their FIS action id, e.g.
	// "stop-checkout": "aws:ec2:stop-instances".
	Actions map[string]string
	Tags    map[string]string
}

// Experiment is a FIS experiment as read back.
type Experiment struct {
	ID         string
	TemplateID string
	Status     string // initiating, running, completed, stopping, stopped, failed
	Reason     string
	Tags       map[string]string
	Start, End time.Time
}

type template struct {
	Template
	created time.Time
	// Made through CreateExperimentTemplate: what its experiments do.
	clientToken string
	role        string
	stops       []stopCondition
	targets     map[string]fisTarget
	actions     map[string]fisAction
}

type experiment struct {
	Experiment
	clientToken string
	gen         int
	// lift undoes what the experiment's actions applied; each runs once.
	lift []func()
}

// AddTemplate seeds an experiment template.
func (s *Server) AddTemplate(t Template) error {
	if t.ID == "" {
		return fmt.Errorf("lab/aws: experiment template without an ID")
	}
	if t.Duration <= 0 {
		t.Duration = time.Minute
	}
	t.Tags = copyTags(t.Tags)
	t.Actions = copyTags(t.Actions)
	return seed(s, s.templates, "experiment template", t.ID, &template{Template: t, created: s.opts.Now()}, func() { s.tmplOrder = append(s.tmplOrder, t.ID) })
}

// Experiment returns a copy of an experiment's current state.
func (s *Server) Experiment(id string) (Experiment, bool) {
	return readBack(s, s.exps, id, func(e *experiment) Experiment {
		out := e.Experiment
		out.Tags = copyTags(e.Tags)
		return out
	})
}

func (s *Server) serveFIS(w http.ResponseWriter, c *call) {
	s.serveREST(w, c, []restRoute{
		{http.MethodPost, "experiments", "StartExperiment", s.startExperiment},
		{http.MethodGet, "experiments", "ListExperiments", s.listExperiments},
		{http.MethodGet, "experiments/*", "GetExperiment", s.getExperiment},
		{http.MethodDelete, "experiments/*", "StopExperiment", s.stopExperiment},
		{http.MethodGet, "experimentTemplates", "ListExperimentTemplates", s.listTemplates},
		{http.MethodGet, "experimentTemplates/*", "GetExperimentTemplate", s.getTemplate},
		{http.MethodPost, "experimentTemplates", "CreateExperimentTemplate", s.createTemplate},
		{http.MethodDelete, "experimentTemplates/*", "DeleteExperimentTemplate", s.deleteTemplate},
	})
}

func fisNotFound(what, id string) *apiError {
	return &apiError{status: 404, code: "ResourceNotFoundException", msg: fmt.Sprintf("%s not found: %s", what, id)}
}

func fisInvalid(msg string) *apiError {
	return &apiError{status: 400, code: "ValidationException", msg: msg}
}

// experimentID returns an id in FIS's shape (EXP followed by letters and digits).
func experimentID() string {
	return "EXP" + strings.ToUpper(strings.ReplaceAll(newID(), "-", "")[:17])
}

func (s *Server) startExperiment(c *call, _ string) (any, *apiError) {
	var in struct {
		ClientToken          string            `json:"clientToken"`
		ExperimentTemplateID string            `json:"experimentTemplateId"`
		Tags                 map[string]string `json:"tags"`
	}
	if aerr := decodeJSON(c.body, &in); aerr != nil {
		return nil, aerr
	}
	if in.ExperimentTemplateID == "" {
		return nil, fisInvalid("experimentTemplateId is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.ClientToken != "" {
		for _, e := range s.exps {
			if e.clientToken == in.ClientToken {
				return map[string]any{"experiment": s.experimentJSON(e)}, nil
			}
		}
	}
	t, ok := s.templates[in.ExperimentTemplateID]
	if !ok {
		return nil, fisNotFound("Experiment template", in.ExperimentTemplateID)
	}
	e := &experiment{Experiment: Experiment{ID: experimentID(), TemplateID: t.ID, Tags: copyTags(in.Tags), Start: s.opts.Now()}, clientToken: in.ClientToken}
	s.exps[e.ID] = e
	s.expOrder = append(s.expOrder, e.ID)
	s.setExperiment(e, "initiating", "Experiment is initiating.")
	s.laterExperiment(e, s.opts.TransitionDelay, "running", "Experiment is running.", func() {
		s.apply(e, t)
		lift := func() { s.liftAll(e) }
		if t.FailReason != "" {
			s.laterExperiment(e, t.Duration, "failed", t.FailReason, lift)
		} else {
			s.laterExperiment(e, t.Duration, "completed", "Experiment completed.", lift)
		}
	})
	return map[string]any{"experiment": s.experimentJSON(e)}, nil
}

// setExperiment moves e to status and tells the lab. Callers hold s.mu.
func (s *Server) setExperiment(e *experiment, status, reason string) {
	e.Status, e.Reason = status, reason
	e.gen++
	switch status {
	case "completed", "stopped", "failed":
		e.End = s.opts.Now()
	}
	if fn := s.opts.Hooks.Experiment; fn != nil {
		id, tmpl := e.ID, e.TemplateID
		s.hooks.push(func() { fn(id, tmpl, status) })
	}
}

// laterExperiment moves e to status after d unless it changed meanwhile,
// then runs next (with s.mu held).
func (s *Server) laterExperiment(e *experiment, d time.Duration, status, reason string, next func()) {
	s.unlessChanged(d, &e.gen, func() {
		s.setExperiment(e, status, reason)
		if next != nil {
			next()
		}
	})
}

// experimentJSON is the Experiment shape. Callers hold s.mu.
func (s *Server) experimentJSON(e *experiment) map[string]any {
	actions := map[string]any{}
	if t, ok := s.templates[e.TemplateID]; ok {
		for name, id := range t.Actions {
			actions[name] = map[string]any{"actionId": id, "state": map[string]string{"status": e.Status, "reason": e.Reason}}
		}
	}
	out := map[string]any{
		"id": e.ID, "arn": s.arn("fis", "experiment/"+e.ID),
		"experimentTemplateId": e.TemplateID, "roleArn": "arn:aws:iam::" + s.opts.Account + ":role/gameday-fis",
		"state":   map[string]string{"status": e.Status, "reason": e.Reason},
		"actions": actions, "targets": map[string]any{}, "stopConditions": []map[string]string{{"source": "none"}},
		"creationTime": epoch(e.Start), "startTime": epoch(e.Start), "tags": e.Tags,
	}
	if !e.End.IsZero() {
		out["endTime"] = epoch(e.End)
	}
	return out
}

func (s *Server) getExperiment(c *call, id string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.exps[id]
	if !ok {
		return nil, fisNotFound("Experiment", id)
	}
	return map[string]any{"experiment": s.experimentJSON(e)}, nil
}

func (s *Server) stopExperiment(c *call, id string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.exps[id]
	if !ok {
		return nil, fisNotFound("Experiment", id)
	}
	switch e.Status {
	case "initiating", "running":
		s.stopLocked(e, "Experiment stopped.")
	case "stopping":
	default:
		return nil, fisInvalid(fmt.Sprintf("Experiment %s is %s: only initiating or running experiments can be stopped", id, e.Status))
	}
	return map[string]any{"experiment": s.experimentJSON(e)}, nil
}

// stopLocked stops e and lifts what its actions applied, as FIS does (an
// instance it stopped to restart later is started). Callers hold s.mu.
func (s *Server) stopLocked(e *experiment, reason string) {
	s.setExperiment(e, "stopping", "Stopping the experiment.")
	s.laterExperiment(e, s.opts.TransitionDelay, "stopped", reason, func() { s.liftAll(e) })
}

// fisPaging: maxResults 1 to 100, default 100, and nextToken.
var fisPaging = paging{100, 1, 100, "ValidationException", "maxResults %q: expected 1 to 100", "ValidationException", "nextToken is not valid"}

func (s *Server) listExperiments(c *call, _ string) (any, *apiError) {
	q := c.r.URL.Query()
	size, offset, aerr := fisPaging.read(q.Get("maxResults"), q.Get("nextToken"))
	if aerr != nil {
		return nil, aerr
	}
	tmpl := q.Get("experimentTemplateId")
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for i := len(s.expOrder) - 1; i >= 0; i-- {
		if e := s.exps[s.expOrder[i]]; tmpl == "" || e.TemplateID == tmpl {
			ids = append(ids, e.ID)
		}
	}
	return pageOf(ids, offset, size, "experiments", "nextToken", func(id string) map[string]any {
		full := s.experimentJSON(s.exps[id])
		summary := map[string]any{}
		for _, k := range []string{"id", "arn", "experimentTemplateId", "state", "creationTime", "tags"} {
			summary[k] = full[k]
		}
		return summary
	}), nil
}

// templateJSON is the ExperimentTemplate shape. Callers hold s.mu.
func (s *Server) templateJSON(t *template, full bool) map[string]any {
	out := map[string]any{
		"id": t.ID, "arn": s.arn("fis", "experiment-template/"+t.ID),
		"description": t.Description, "creationTime": epoch(t.created), "lastUpdateTime": epoch(t.created), "tags": t.Tags,
	}
	if full && t.actions != nil {
		out["actions"], out["targets"], out["stopConditions"], out["roleArn"] = t.actions, t.targets, t.stops, t.role
	} else if full {
		actions := map[string]any{}
		for name, id := range t.Actions {
			actions[name] = map[string]any{"actionId": id, "parameters": map[string]string{"duration": isoDuration(t.Duration)}}
		}
		out["actions"] = actions
		out["targets"] = map[string]any{}
		out["stopConditions"] = []map[string]string{{"source": "none"}}
		out["roleArn"] = "arn:aws:iam::" + s.opts.Account + ":role/gameday-fis"
	}
	return out
}

func isoDuration(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S"
}

func (s *Server) listTemplates(c *call, _ string) (any, *apiError) {
	q := c.r.URL.Query()
	size, offset, aerr := fisPaging.read(q.Get("maxResults"), q.Get("nextToken"))
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return pageOf(s.tmplOrder, offset, size, "experimentTemplates", "nextToken", func(id string) map[string]any { return s.templateJSON(s.templates[id], false) }), nil
}

func (s *Server) getTemplate(c *call, id string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.templates[id]
	if !ok {
		return nil, fisNotFound("Experiment template", id)
	}
	return map[string]any{"experimentTemplate": s.templateJSON(t, true)}, nil
}

package aws

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Task is an ECS task as seeded and as read back.
type Task struct {
	ID      string // 32 hex digits; assigned when empty
	Cluster string // required; the cluster exists once a task names it
	// Service, when set, makes the task part of a service: when it stops,
	// the service scheduler starts a replacement, as ECS does.
	Service    string
	Family     string // task definition family; default the service, else "task"
	AZ         string // default the region's "a" zone
	Tags       map[string]string
	LastStatus string // default RUNNING
	// Read back only.
	ARN           string
	DesiredStatus string
	StoppedReason string
}

type task struct {
	Task
	created time.Time
	stopped time.Time
}

// AddTask seeds a task and returns its ARN.
func (s *Server) AddTask(t Task) (string, error) {
	if t.Cluster == "" || strings.ContainsAny(t.Cluster, "/:") {
		return "", fmt.Errorf("lab/aws: task cluster %q: expected a plain cluster name", t.Cluster)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addTask(t)
}

// addTask fills t's defaults and stores it. Callers hold s.mu.
func (s *Server) addTask(t Task) (string, error) {
	if t.ID == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		t.ID = hex.EncodeToString(b[:])
	}
	if t.Family == "" {
		t.Family = t.Service
	}
	if t.Family == "" {
		t.Family = "task"
	}
	if t.AZ == "" {
		t.AZ = s.opts.Region + "a"
	}
	if t.LastStatus == "" {
		t.LastStatus = "RUNNING"
	}
	t.DesiredStatus = "RUNNING"
	if t.LastStatus == "STOPPED" {
		t.DesiredStatus = "STOPPED"
	}
	t.Tags = copyTags(t.Tags)
	t.ARN = s.arn("ecs", "task/"+t.Cluster+"/"+t.ID)
	if _, ok := s.tasks[t.ARN]; ok {
		return "", fmt.Errorf("lab/aws: task %s already exists", t.ARN)
	}
	s.tasks[t.ARN] = &task{Task: t, created: s.opts.Now()}
	s.taskOrder = append(s.taskOrder, t.ARN)
	return t.ARN, nil
}

// Task returns a copy of a task's current state, by ARN.
func (s *Server) Task(arn string) (Task, bool) {
	return readBack(s, s.tasks, arn, copyTask)
}

// Tasks returns copies of every task of a cluster, oldest first.
func (s *Server) Tasks(cluster string) []Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Task
	for _, arn := range s.taskOrder {
		if t := s.tasks[arn]; t.Cluster == cluster {
			out = append(out, copyTask(t))
		}
	}
	return out
}

func copyTask(t *task) Task {
	out := t.Task
	out.Tags = copyTags(t.Tags)
	return out
}

func (s *Server) serveECS(w http.ResponseWriter, c *call) {
	s.serveTarget(w, c, "AmazonEC2ContainerServiceV20141113.", map[string]func(*call) (any, *apiError){
		"ListTasks":     s.listTasks,
		"DescribeTasks": s.describeTasks,
		"StopTask":      s.stopTask,
	})
}

// ecsPaging: maxResults 1 to 100, default 100, and nextToken.
var ecsPaging = paging{100, 1, 100, "InvalidParameterException", "maxResults %s: expected 1 to 100", "InvalidParameterException", "Invalid token"}

func ecsInvalid(msg string) *apiError {
	return &apiError{status: 400, code: "InvalidParameterException", msg: msg}
}

// cluster resolves a cluster name or ARN (default "default") to a cluster
// that has tasks. Callers hold s.mu.
func (s *Server) cluster(ref string) (string, *apiError) {
	if ref == "" {
		ref = "default"
	}
	name := ref[strings.LastIndex(ref, "/")+1:]
	for _, t := range s.tasks {
		if t.Cluster == name {
			return name, nil
		}
	}
	return "", &apiError{status: 400, code: "ClusterNotFoundException", msg: "Cluster not found: " + ref}
}

// findTask resolves a task ARN or id within a cluster. Callers hold s.mu.
func (s *Server) findTask(cluster, ref string) *task {
	if t, ok := s.tasks[ref]; ok && t.Cluster == cluster {
		return t
	}
	for _, t := range s.tasks {
		if t.Cluster == cluster && t.ID == ref {
			return t
		}
	}
	return nil
}

func (s *Server) listTasks(c *call) (any, *apiError) {
	var in struct {
		Cluster, ServiceName, Family, DesiredStatus, NextToken string
		MaxResults                                             *int
	}
	if aerr := decodeJSON(c.body, &in); aerr != nil {
		return nil, aerr
	}
	size, offset, aerr := ecsPaging.read(optInt(in.MaxResults), in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	switch in.DesiredStatus {
	case "":
		in.DesiredStatus = "RUNNING"
	case "RUNNING", "STOPPED", "PENDING":
	default:
		return nil, ecsInvalid(fmt.Sprintf("desiredStatus %q: expected RUNNING, PENDING or STOPPED", in.DesiredStatus))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cluster, aerr := s.cluster(in.Cluster)
	if aerr != nil {
		return nil, aerr
	}
	var arns []string
	for _, arn := range s.taskOrder {
		t := s.tasks[arn]
		if t.Cluster != cluster || (in.ServiceName != "" && t.Service != lastPath(in.ServiceName)) || (in.Family != "" && t.Family != in.Family) {
			continue
		}
		if desired := t.DesiredStatus; desired == in.DesiredStatus || (in.DesiredStatus == "PENDING" && t.LastStatus == "PENDING") {
			arns = append(arns, arn)
		}
	}
	from, to, next := page(len(arns), offset, size)
	out := map[string]any{"taskArns": arns[from:to]}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func lastPath(v string) string { return v[strings.LastIndex(v, "/")+1:] }

// taskJSON is the Task shape. Callers hold s.mu.
func (s *Server) taskJSON(t *task, tags bool) map[string]any {
	out := map[string]any{
		"taskArn": t.ARN, "clusterArn": s.arn("ecs", "cluster/"+t.Cluster),
		"taskDefinitionArn": s.arn("ecs", "task-definition/"+t.Family+":1"),
		"lastStatus":        t.LastStatus, "desiredStatus": t.DesiredStatus, "availabilityZone": t.AZ,
		"launchType": "FARGATE", "createdAt": epoch(t.created), "startedAt": epoch(t.created),
	}
	if t.Service != "" {
		out["group"] = "service:" + t.Service
		out["startedBy"] = "ecs-svc/lab"
	}
	if t.StoppedReason != "" {
		out["stoppedReason"] = t.StoppedReason
		out["stopCode"] = "UserInitiated"
	}
	if !t.stopped.IsZero() {
		out["stoppedAt"] = epoch(t.stopped)
	}
	if tags {
		list := []map[string]string{}
		for _, tg := range tagsXML(t.Tags) {
			list = append(list, map[string]string{"key": tg.Key, "value": tg.Value})
		}
		out["tags"] = list
	}
	return out
}

func (s *Server) describeTasks(c *call) (any, *apiError) {
	var in struct {
		Cluster string
		Tasks   []string
		Include []string
	}
	if aerr := decodeJSON(c.body, &in); aerr != nil {
		return nil, aerr
	}
	if len(in.Tasks) == 0 || len(in.Tasks) > 100 {
		return nil, ecsInvalid("Tasks cannot be empty and may name at most 100 tasks.")
	}
	withTags := false
	for _, inc := range in.Include {
		withTags = withTags || inc == "TAGS"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cluster, aerr := s.cluster(in.Cluster)
	if aerr != nil {
		return nil, aerr
	}
	tasks, failures := []map[string]any{}, []map[string]string{}
	for _, ref := range in.Tasks {
		if t := s.findTask(cluster, ref); t != nil {
			tasks = append(tasks, s.taskJSON(t, withTags))
		} else {
			failures = append(failures, map[string]string{"arn": ref, "reason": "MISSING"})
		}
	}
	return map[string]any{"tasks": tasks, "failures": failures}, nil
}

// stopTask stops a task (DEACTIVATING, then STOPPED after the transition
// delay). A service's task is replaced by a new one, as the service
// scheduler does.
func (s *Server) stopTask(c *call) (any, *apiError) {
	var in struct{ Cluster, Task, Reason string }
	if aerr := decodeJSON(c.body, &in); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cluster, aerr := s.cluster(in.Cluster)
	if aerr != nil {
		return nil, aerr
	}
	t := s.findTask(cluster, in.Task)
	if t == nil {
		return nil, ecsInvalid("The referenced task was not found.")
	}
	if t.DesiredStatus == "RUNNING" {
		t.DesiredStatus = "STOPPED"
		t.StoppedReason = in.Reason
		if t.StoppedReason == "" {
			t.StoppedReason = "Task stopped by user"
		}
		t.LastStatus = "DEACTIVATING"
		s.changeHook("ecs", t.ARN, t.LastStatus)
		time.AfterFunc(s.opts.TransitionDelay, func() { s.finishStop(t) })
	}
	return map[string]any{"task": s.taskJSON(t, false)}, nil
}

func (s *Server) finishStop(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	t.LastStatus, t.stopped = "STOPPED", s.opts.Now()
	s.changeHook("ecs", t.ARN, t.LastStatus)
	if t.Service == "" {
		return
	}
	arn, err := s.addTask(Task{Cluster: t.Cluster, Service: t.Service, Family: t.Family, AZ: t.AZ, Tags: t.Tags, LastStatus: "PENDING"})
	if err != nil {
		return
	}
	s.changeHook("ecs", arn, "PENDING")
	repl := s.tasks[arn]
	time.AfterFunc(s.opts.TransitionDelay, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || repl.LastStatus != "PENDING" {
			return
		}
		repl.LastStatus = "RUNNING"
		s.changeHook("ecs", arn, repl.LastStatus)
	})
}

package aws

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Output limits of GetCommandInvocation and of a plugin's Output in
// ListCommandInvocations, as SSM truncates them.
const (
	maxStdout       = 24000
	maxStderr       = 8000
	maxPluginOutput = 2500
	runShellScript  = "AWS-RunShellScript"
	runShellPlugin  = "aws:runShellScript"
)

var (
	concurrencyRE = regexp.MustCompile(`^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$`)
	maxErrorsRE   = regexp.MustCompile(`^([1-9][0-9]*|0|[1-9][0-9]%|[0-9]%|100%)$`)
)

type command struct {
	id          string
	comment     string
	params      map[string][]string
	targets     []ssmTarget
	instanceIDs []string
	concurrency string
	maxErrors   string
	timeout     int
	requested   time.Time
	status      string
	details     string
	invs        map[string]*invocation
	cancelled   bool
}

type invocation struct {
	instanceID     string
	status         string
	details        string
	stdout, stderr string
	code           int
	start, end     time.Time
	cancel         context.CancelFunc
}

type ssmTarget struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

func (s *Server) serveSSM(w http.ResponseWriter, c *call) {
	s.serveTarget(w, c, "AmazonSSM.", map[string]func(*call) (any, *apiError){
		"SendCommand":            s.sendCommand,
		"GetCommandInvocation":   s.getCommandInvocation,
		"ListCommandInvocations": s.listCommandInvocations,
		"ListCommands":           s.listCommands,
		"CancelCommand":          s.cancelCommand,
	})
}

// serveTarget routes a JSON 1.1 call by its X-Amz-Target, prefix.Action.
func (s *Server) serveTarget(w http.ResponseWriter, c *call, prefix string, handlers map[string]func(*call) (any, *apiError)) {
	target := c.r.Header.Get("X-Amz-Target")
	action, ok := strings.CutPrefix(target, prefix)
	h := handlers[action]
	if !ok || h == nil {
		s.fail(w, c, &apiError{status: 400, code: "UnknownOperationException", msg: fmt.Sprintf("operation %q is not served by this endpoint", target)})
		return
	}
	s.serveJSON(w, c, action, jsonContentType(c.service), h)
}

func decodeJSON(body []byte, v any) *apiError {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{status: 400, code: "SerializationException", msg: "request body: " + err.Error()}
	}
	return nil
}

// ssmPaging: MaxResults 1 to 50, default 50, and NextToken.
var ssmPaging = paging{50, 1, 50, "ValidationException", "MaxResults %s: expected 1 to 50", "InvalidNextToken", "The specified token is not valid."}

func ssmInvalid(code, msg string) *apiError { return &apiError{status: 400, code: code, msg: msg} }

// sendCommandInput is SendCommand's request.
type sendCommandInput struct {
	DocumentName   string
	InstanceIds    []string
	Targets        []ssmTarget
	Parameters     map[string][]string
	MaxConcurrency string
	MaxErrors      string
	TimeoutSeconds *int
	Comment        string
}

func (s *Server) sendCommand(c *call) (any, *apiError) {
	var in sendCommandInput
	if aerr := decodeJSON(c.body, &in); aerr != nil {
		return nil, aerr
	}
	if aerr := in.checkTargeting(c.region); aerr != nil {
		return nil, aerr
	}
	execTimeout, aerr := in.executionTimeout()
	if aerr != nil {
		return nil, aerr
	}
	timeout, aerr := in.deliveryLimits()
	if aerr != nil {
		return nil, aerr
	}
	return s.startCommand(&in, timeout, time.Duration(execTimeout)*time.Second)
}

// checkTargeting checks the document and how the instances are named.
func (in *sendCommandInput) checkTargeting(region string) *apiError {
	if in.DocumentName != runShellScript && in.DocumentName != "arn:aws:ssm:"+region+"::document/"+runShellScript {
		return ssmInvalid("InvalidDocument", fmt.Sprintf("Document %q is not served by this endpoint (only %s is)", in.DocumentName, runShellScript))
	}
	if (len(in.InstanceIds) == 0) == (len(in.Targets) == 0) {
		return ssmInvalid("ValidationException", "exactly one of InstanceIds or Targets must be given")
	}
	if len(in.InstanceIds) > 50 || len(in.Targets) > 5 {
		return ssmInvalid("ValidationException", "at most 50 InstanceIds and 5 Targets")
	}
	return nil
}

// executionTimeout checks the document's parameters and returns its
// executionTimeout in seconds (default an hour).
func (in *sendCommandInput) executionTimeout() (int, *apiError) {
	if cmds := in.Parameters["commands"]; len(cmds) == 0 {
		return 0, ssmInvalid("InvalidParameters", "Parameters: commands is required and must not be empty")
	}
	for name := range in.Parameters {
		if name != "commands" && name != "workingDirectory" && name != "executionTimeout" {
			return 0, ssmInvalid("InvalidParameters", fmt.Sprintf("Parameter %q is not defined by %s (commands, workingDirectory, executionTimeout are)", name, runShellScript))
		}
	}
	v := in.Parameters["executionTimeout"]
	if len(v) == 0 {
		return 3600, nil
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < 1 || n > 172800 {
		return 0, ssmInvalid("InvalidParameters", fmt.Sprintf("Parameters: executionTimeout %q must be a whole number of seconds from 1 to 172800", v[0]))
	}
	return n, nil
}

// deliveryLimits fills in and checks MaxConcurrency and MaxErrors, and
// returns TimeoutSeconds (default an hour).
func (in *sendCommandInput) deliveryLimits() (int, *apiError) {
	if in.MaxConcurrency == "" {
		in.MaxConcurrency = "50"
	}
	if in.MaxErrors == "" {
		in.MaxErrors = "0"
	}
	if !concurrencyRE.MatchString(in.MaxConcurrency) {
		return 0, ssmInvalid("ValidationException", fmt.Sprintf("MaxConcurrency %q: expected a count from 1 or a percentage from 1%% to 100%%", in.MaxConcurrency))
	}
	if !maxErrorsRE.MatchString(in.MaxErrors) {
		return 0, ssmInvalid("ValidationException", fmt.Sprintf("MaxErrors %q: expected a count from 0 or a percentage from 0%% to 100%%", in.MaxErrors))
	}
	if in.TimeoutSeconds == nil {
		return 3600, nil
	}
	if *in.TimeoutSeconds < 30 || *in.TimeoutSeconds > 2592000 {
		return 0, ssmInvalid("ValidationException", fmt.Sprintf("TimeoutSeconds %d: expected 30 to 2592000", *in.TimeoutSeconds))
	}
	return *in.TimeoutSeconds, nil
}

// startCommand records a checked command and runs it in the background.
func (s *Server) startCommand(in *sendCommandInput, timeout int, execTimeout time.Duration) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd, aerr := s.startCommandLocked(in, timeout, execTimeout)
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"Command": s.commandJSON(cmd)}, nil
}

// startCommandLocked is startCommand for callers that hold s.mu, as a FIS
// action does.
func (s *Server) startCommandLocked(in *sendCommandInput, timeout int, execTimeout time.Duration) (*command, *apiError) {
	if s.closed {
		// Close is waiting for commands: none may start now.
		return nil, &apiError{status: 503, code: "ServiceUnavailable", msg: "the endpoint is shutting down", server: true}
	}
	ids, aerr := s.ssmTargets(in.InstanceIds, in.Targets)
	if aerr != nil {
		return nil, aerr
	}
	ctx, cancel := context.WithCancel(s.ctx)
	cmd := &command{
		id: newID(), comment: in.Comment, params: in.Parameters, targets: in.Targets, instanceIDs: ids,
		concurrency: in.MaxConcurrency, maxErrors: in.MaxErrors, timeout: timeout, requested: s.opts.Now(),
		status: "Pending", details: "Pending", invs: map[string]*invocation{},
	}
	for _, id := range ids {
		cmd.invs[id] = &invocation{instanceID: id, status: "Pending", details: "Pending", code: -1}
	}
	s.commands[cmd.id] = cmd
	s.cmdOrder = append(s.cmdOrder, cmd.id)
	s.wg.Go(func() {
		defer cancel()
		s.runCommand(ctx, cmd, in.Parameters["commands"], execTimeout)
	})
	return cmd, nil
}

// ssmTargets resolves InstanceIds or Targets to managed instances: those
// that are running. Callers hold s.mu.
func (s *Server) ssmTargets(ids []string, targets []ssmTarget) ([]string, *apiError) {
	if len(ids) > 0 {
		var bad []string
		for _, id := range ids {
			if in, ok := s.instances[id]; !ok || in.State != StateRunning {
				bad = append(bad, id)
			}
		}
		if len(bad) > 0 {
			return nil, ssmInvalid("InvalidInstanceId", fmt.Sprintf("Instances [[%s]] not in a valid state for account %s: unknown or not running", strings.Join(bad, ", "), s.opts.Account))
		}
		return dedupe(ids), nil
	}
	filters := make([]filter, 0, len(targets))
	for _, t := range targets {
		switch {
		case t.Key == "InstanceIds":
			filters = append(filters, filter{name: "instance-id", values: t.Values})
		case strings.HasPrefix(t.Key, "tag:") && len(t.Key) > 4, t.Key == "tag-key":
			filters = append(filters, filter{name: t.Key, values: t.Values})
		default:
			return nil, ssmInvalid("ValidationException", fmt.Sprintf("Targets: key %q is not supported here (InstanceIds, tag:<key>, tag-key are)", t.Key))
		}
		if len(t.Values) == 0 {
			return nil, ssmInvalid("ValidationException", fmt.Sprintf("Targets: key %q has no Values", t.Key))
		}
	}
	var out []string
	for _, id := range s.order {
		if in := s.instances[id]; in.State == StateRunning && instanceFields.match(filters, in, in.Tags) {
			out = append(out, id)
		}
	}
	return out, nil
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// limit turns a MaxConcurrency or MaxErrors value into a count of targets.
func limit(v string, targets int) int {
	if p, ok := strings.CutSuffix(v, "%"); ok {
		n, _ := strconv.Atoi(p)
		return targets * n / 100
	}
	n, _ := strconv.Atoi(v)
	return n
}

// runCommand sends the command to its targets at most MaxConcurrency at a
// time and stops sending once more than MaxErrors have failed.
func (s *Server) runCommand(ctx context.Context, cmd *command, commands []string, execTimeout time.Duration) {
	s.mu.Lock()
	ids := cmd.instanceIDs
	concurrency := max(1, limit(cmd.concurrency, len(ids)))
	maxErrs := limit(cmd.maxErrors, len(ids))
	if len(ids) > 0 {
		cmd.status, cmd.details = "InProgress", "InProgress"
	}
	s.mu.Unlock()

	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	errs := 0
	for _, id := range ids {
		acquired := false
		select {
		case sem <- struct{}{}:
			acquired = true
		case <-ctx.Done():
		}
		s.mu.Lock()
		inv := cmd.invs[id]
		if ctx.Err() != nil || errs > maxErrs || inv.status != "Pending" {
			if acquired {
				<-sem
			}
			if inv.status == "Pending" {
				inv.status, inv.details = "Cancelled", "Cancelled"
				if errs > maxErrs {
					inv.details = "Cancelled: MaxErrors reached"
				}
			}
			s.mu.Unlock()
			continue
		}
		invCtx, cancel := context.WithTimeout(ctx, execTimeout)
		inv.status, inv.details, inv.start, inv.cancel = "InProgress", "InProgress", s.opts.Now(), cancel
		s.mu.Unlock()
		wg.Go(func() {
			defer func() { <-sem }()
			defer cancel()
			failed := s.invoke(invCtx, cmd, inv, commands)
			if failed {
				s.mu.Lock()
				errs++
				s.mu.Unlock()
			}
		})
	}
	wg.Wait()

	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case cmd.cancelled:
		cmd.status, cmd.details = "Cancelled", "Cancelled"
	case errs > maxErrs:
		cmd.status, cmd.details = "Failed", "Failed"
	default:
		cmd.status, cmd.details = "Success", "Success"
	}
}

// invoke runs one invocation through the RunShell hook and reports whether
// it counts as an error.
func (s *Server) invoke(ctx context.Context, cmd *command, inv *invocation, commands []string) bool {
	run := s.opts.Hooks.RunShell
	stdout, stderr, code := "", "", -1
	if run != nil {
		stdout, stderr, code = run(ctx, inv.instanceID, commands)
	} else {
		stderr = "no SSM agent answers for this instance (lab/aws has no RunShell hook)"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inv.stdout, inv.stderr, inv.code, inv.end = stdout, stderr, code, s.opts.Now()
	switch {
	case run == nil:
		inv.status, inv.details = "Failed", "Undeliverable"
	case inv.status == "Cancelling" || ctx.Err() == context.Canceled:
		// CancelCommand, or the endpoint closing under it.
		inv.status, inv.details = "Cancelled", "Cancelled"
		return false
	case ctx.Err() == context.DeadlineExceeded:
		inv.status, inv.details = "TimedOut", "ExecutionTimedOut"
	case code == 0:
		inv.status, inv.details = "Success", "Success"
		return false
	default:
		inv.status, inv.details = "Failed", "Failed"
	}
	return true
}

func epoch(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return float64(t.UnixMilli()) / 1000
}

func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// commandJSON is the Command shape. Callers hold s.mu.
func (s *Server) commandJSON(cmd *command) map[string]any {
	completed, errs := 0, 0
	for _, inv := range cmd.invs {
		switch inv.status {
		case "Success":
			completed++
		case "Failed", "TimedOut":
			completed++
			errs++
		case "Cancelled":
			completed++
		}
	}
	out := map[string]any{
		"CommandId": cmd.id, "DocumentName": runShellScript, "DocumentVersion": "$DEFAULT",
		"Comment": cmd.comment, "Parameters": cmd.params, "InstanceIds": cmd.instanceIDs,
		"Targets": cmd.targets, "RequestedDateTime": epoch(cmd.requested),
		"ExpiresAfter": epoch(cmd.requested.Add(time.Duration(cmd.timeout) * time.Second)),
		"Status":       cmd.status, "StatusDetails": cmd.details,
		"MaxConcurrency": cmd.concurrency, "MaxErrors": cmd.maxErrors, "TimeoutSeconds": cmd.timeout,
		"TargetCount": len(cmd.invs), "CompletedCount": completed, "ErrorCount": errs,
	}
	if cmd.targets == nil {
		out["Targets"] = []ssmTarget{}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func (s *Server) getCommandInvocation(c *call) (any, *apiError) {
	var in struct{ CommandId, InstanceId, PluginName string }
	if aerr := decodeJSON(c.body, &in); aerr != nil {
		return nil, aerr
	}
	if in.CommandId == "" || in.InstanceId == "" {
		return nil, ssmInvalid("ValidationException", "CommandId and InstanceId are required")
	}
	if in.PluginName != "" && in.PluginName != runShellPlugin {
		return nil, ssmInvalid("InvalidPluginName", fmt.Sprintf("plugin %q: %s has one plugin, %s", in.PluginName, runShellScript, runShellPlugin))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd, ok := s.commands[in.CommandId]
	var inv *invocation
	if ok {
		inv = cmd.invs[in.InstanceId]
	}
	if inv == nil {
		return nil, ssmInvalid("InvocationDoesNotExist", fmt.Sprintf("no invocation of command %s on instance %s", in.CommandId, in.InstanceId))
	}
	elapsed := ""
	if !inv.end.IsZero() {
		elapsed = fmt.Sprintf("PT%.3fS", inv.end.Sub(inv.start).Seconds())
	}
	return map[string]any{
		"CommandId": cmd.id, "InstanceId": inv.instanceID, "Comment": cmd.comment,
		"DocumentName": runShellScript, "DocumentVersion": "$DEFAULT", "PluginName": runShellPlugin,
		"ResponseCode": inv.code, "Status": inv.status, "StatusDetails": inv.details,
		"ExecutionStartDateTime": isoTime(inv.start), "ExecutionEndDateTime": isoTime(inv.end),
		"ExecutionElapsedTime":  elapsed,
		"StandardOutputContent": truncate(inv.stdout, maxStdout), "StandardErrorContent": truncate(inv.stderr, maxStderr),
		"StandardOutputUrl": "", "StandardErrorUrl": "",
	}, nil
}

// ssmList is what SSM's list calls share: an optional command and paging.
type ssmList struct {
	CommandId, NextToken string
	MaxResults           *int
}

// serveList serves a list call over commands: it decodes the body into in
// (which embeds l), reads the page, and, under the lock, runs list with the
// command l names or every command, newest first.
func (s *Server) serveList(c *call, in any, l *ssmList, list func(cmds []*command, offset, size int) any) (any, *apiError) {
	if aerr := decodeJSON(c.body, in); aerr != nil {
		return nil, aerr
	}
	size, offset, aerr := ssmPaging.read(optInt(l.MaxResults), l.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var cmds []*command
	if l.CommandId != "" {
		cmd, ok := s.commands[l.CommandId]
		if !ok {
			return nil, ssmInvalid("InvalidCommandId", fmt.Sprintf("command %s does not exist", l.CommandId))
		}
		cmds = []*command{cmd}
	} else {
		for i := len(s.cmdOrder) - 1; i >= 0; i-- {
			cmds = append(cmds, s.commands[s.cmdOrder[i]])
		}
	}
	return list(cmds, offset, size), nil
}

func (s *Server) listCommandInvocations(c *call) (any, *apiError) {
	var in struct {
		ssmList
		InstanceId string
		Details    bool
	}
	return s.serveList(c, &in, &in.ssmList, func(cmds []*command, offset, size int) any {
		type pair struct {
			cmd *command
			inv *invocation
		}
		var all []pair
		for _, cmd := range cmds {
			for _, id := range cmd.instanceIDs {
				if in.InstanceId == "" || in.InstanceId == id {
					all = append(all, pair{cmd, cmd.invs[id]})
				}
			}
		}
		return pageOf(all, offset, size, "CommandInvocations", "NextToken", func(p pair) map[string]any {
			item := map[string]any{
				"CommandId": p.cmd.id, "InstanceId": p.inv.instanceID, "Comment": p.cmd.comment,
				"DocumentName": runShellScript, "DocumentVersion": "$DEFAULT",
				"RequestedDateTime": epoch(p.cmd.requested), "Status": p.inv.status, "StatusDetails": p.inv.details,
				"StandardOutputUrl": "", "StandardErrorUrl": "",
			}
			if in.Details {
				item["CommandPlugins"] = []map[string]any{{
					"Name": runShellPlugin, "Status": p.inv.status, "StatusDetails": p.inv.details,
					"ResponseCode": p.inv.code, "Output": truncate(p.inv.stdout+p.inv.stderr, maxPluginOutput),
					"ResponseStartDateTime": epoch(p.inv.start), "ResponseFinishDateTime": epoch(p.inv.end),
				}}
			}
			return item
		})
	})
}

func (s *Server) listCommands(c *call) (any, *apiError) {
	var in ssmList
	return s.serveList(c, &in, &in, func(cmds []*command, offset, size int) any {
		return pageOf(cmds, offset, size, "Commands", "NextToken", s.commandJSON)
	})
}

func (s *Server) cancelCommand(c *call) (any, *apiError) {
	var in struct {
		CommandId   string
		InstanceIds []string
	}
	if aerr := decodeJSON(c.body, &in); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd, ok := s.commands[in.CommandId]
	if !ok {
		return nil, ssmInvalid("InvalidCommandId", fmt.Sprintf("command %q does not exist", in.CommandId))
	}
	return map[string]any{}, s.cancelLocked(cmd, in.InstanceIds)
}

// cancelLocked cancels cmd on ids, or on every instance when ids is empty.
// Callers hold s.mu.
func (s *Server) cancelLocked(cmd *command, ids []string) *apiError {
	if len(ids) == 0 {
		ids = cmd.instanceIDs
		if cmd.status == "Pending" || cmd.status == "InProgress" {
			cmd.cancelled = true
			cmd.status, cmd.details = "Cancelling", "Cancelling"
		}
	}
	for _, id := range ids {
		inv := cmd.invs[id]
		if inv == nil {
			return ssmInvalid("InvalidInstanceId", fmt.Sprintf("instance %s is not a target of command %s", id, cmd.id))
		}
		switch inv.status {
		case "Pending":
			inv.status, inv.details = "Cancelled", "Cancelled"
		case "InProgress":
			inv.status, inv.details = "Cancelling", "Cancelling"
			inv.cancel()
		}
	}
	return nil
}

// newID returns a random UUID-shaped id, as SSM command ids are.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

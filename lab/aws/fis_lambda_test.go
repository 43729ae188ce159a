package aws

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/fis"
	fistypes "github.com/aws/aws-sdk-go-v2/service/fis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// waitExperiment polls GetExperiment until the experiment reaches status.
func waitExperiment(t *testing.T, c *fis.Client, id string, status fistypes.ExperimentStatus) *fistypes.Experiment {
	t.Helper()
	var exp *fistypes.Experiment
	eventually(t, func() string {
		out, err := c.GetExperiment(context.Background(), &fis.GetExperimentInput{Id: sdkaws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if exp = out.Experiment; exp.State.Status != status {
			return fmt.Sprintf("experiment %s still %s, want %s", id, exp.State.Status, status)
		}
		return ""
	})
	return exp
}

func TestFISExperiments(t *testing.T) {
	log := &stateLog{}
	s := startServer(t, Options{Hooks: Hooks{Experiment: func(id, tmpl, status string) { log.add(tmpl, status) }}})
	for _, tmpl := range []Template{
		{ID: "EXTshort", Description: "stop one checkout instance", Duration: 30 * time.Millisecond, Actions: map[string]string{"stop": "aws:ec2:stop-instances"}},
		{ID: "EXTlong", Duration: time.Hour},
		{ID: "EXTbroken", Duration: 10 * time.Millisecond, FailReason: "Target resolution failed."},
	} {
		if err := s.AddTemplate(tmpl); err != nil {
			t.Fatal(err)
		}
	}
	c := fis.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	ctx := context.Background()

	list, err := c.ListExperimentTemplates(ctx, &fis.ListExperimentTemplatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.ExperimentTemplates) != 3 {
		t.Errorf("%d templates listed, want 3", len(list.ExperimentTemplates))
	}
	tmpl, err := c.GetExperimentTemplate(ctx, &fis.GetExperimentTemplateInput{Id: sdkaws.String("EXTshort")})
	if err != nil {
		t.Fatal(err)
	}
	if sdkaws.ToString(tmpl.ExperimentTemplate.Description) != "stop one checkout instance" ||
		sdkaws.ToString(tmpl.ExperimentTemplate.Actions["stop"].ActionId) != "aws:ec2:stop-instances" {
		t.Errorf("template %+v", tmpl.ExperimentTemplate)
	}

	start, err := c.StartExperiment(ctx, &fis.StartExperimentInput{ExperimentTemplateId: sdkaws.String("EXTshort"), Tags: map[string]string{"gameday-run": "run-7"}})
	if err != nil {
		t.Fatal(err)
	}
	e := start.Experiment
	if e.State.Status != fistypes.ExperimentStatusInitiating || e.Tags["gameday-run"] != "run-7" || e.StartTime == nil || !strings.HasPrefix(sdkaws.ToString(e.Id), "EXP") {
		t.Errorf("started %+v", e)
	}
	done := waitExperiment(t, c, sdkaws.ToString(e.Id), fistypes.ExperimentStatusCompleted)
	if done.EndTime == nil {
		t.Error("completed experiment without an end time")
	}
	_, err = c.StopExperiment(ctx, &fis.StopExperimentInput{Id: e.Id})
	wantCode(t, err, "ValidationException", "stop of a completed experiment")

	long, err := c.StartExperiment(ctx, &fis.StartExperimentInput{ExperimentTemplateId: sdkaws.String("EXTlong")})
	if err != nil {
		t.Fatal(err)
	}
	waitExperiment(t, c, sdkaws.ToString(long.Experiment.Id), fistypes.ExperimentStatusRunning)
	stop, err := c.StopExperiment(ctx, &fis.StopExperimentInput{Id: long.Experiment.Id})
	if err != nil {
		t.Fatal(err)
	}
	if stop.Experiment.State.Status != fistypes.ExperimentStatusStopping {
		t.Errorf("stop: %s, want stopping", stop.Experiment.State.Status)
	}
	waitExperiment(t, c, sdkaws.ToString(long.Experiment.Id), fistypes.ExperimentStatusStopped)

	listed, err := c.ListExperiments(ctx, &fis.ListExperimentsInput{ExperimentTemplateId: sdkaws.String("EXTlong")})
	if err != nil || len(listed.Experiments) != 1 || sdkaws.ToString(listed.Experiments[0].Id) != sdkaws.ToString(long.Experiment.Id) {
		t.Errorf("experiments of EXTlong: %v %+v", err, listed)
	}

	broken, err := c.StartExperiment(ctx, &fis.StartExperimentInput{ExperimentTemplateId: sdkaws.String("EXTbroken")})
	if err != nil {
		t.Fatal(err)
	}
	failed := waitExperiment(t, c, sdkaws.ToString(broken.Experiment.Id), fistypes.ExperimentStatusFailed)
	if sdkaws.ToString(failed.State.Reason) != "Target resolution failed." {
		t.Errorf("failed reason %q", sdkaws.ToString(failed.State.Reason))
	}

	_, err = c.StartExperiment(ctx, &fis.StartExperimentInput{ExperimentTemplateId: sdkaws.String("EXTnone")})
	wantCode(t, err, "ResourceNotFoundException", "unknown template")
	_, err = c.GetExperiment(ctx, &fis.GetExperimentInput{Id: sdkaws.String("EXPnone")})
	wantCode(t, err, "ResourceNotFoundException", "unknown experiment")
	_, denied := fis.NewFromConfig(sdkConfig(t, s, denyKey, testSecret)).StartExperiment(ctx, &fis.StartExperimentInput{ExperimentTemplateId: sdkaws.String("EXTshort")})
	_, unknown := c.ListActions(ctx, &fis.ListActionsInput{})
	wantRefusals(t, s, denied, "AccessDeniedException", unknown, "fis:GetExperiment", func() error {
		_, err := c.GetExperiment(ctx, &fis.GetExperimentInput{Id: long.Experiment.Id})
		return err
	})

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(log.list(), ",")
	for _, want := range []string{
		"EXTshort=initiating,EXTshort=running,EXTshort=completed",
		"EXTlong=initiating,EXTlong=running,EXTlong=stopping,EXTlong=stopped",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("experiment hook saw %s, want %s in order", got, want)
		}
	}
}

func TestLambdaConfigurationAndConcurrency(t *testing.T) {
	s := startServer(t, Options{})
	if err := s.AddFunction(Function{Name: "checkout", Env: map[string]string{"FAULT_LATENCY_MS": "0"}, Tags: map[string]string{"service": "checkout"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddFunction(Function{Name: "search"}); err != nil {
		t.Fatal(err)
	}
	c := lambda.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	ctx := context.Background()

	cfg, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: sdkaws.String("checkout")})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Environment.Variables["FAULT_LATENCY_MS"] != "0" || sdkaws.ToString(cfg.RevisionId) == "" || !strings.HasSuffix(sdkaws.ToString(cfg.FunctionArn), ":function:checkout") {
		t.Errorf("configuration %+v", cfg)
	}
	updateFunction(t, ctx, c, s, cfg)
	reserveConcurrency(t, ctx, c)
	readFunction(t, ctx, c, cfg)

	_, err = c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: sdkaws.String("nope")})
	if apiCode(err) != "ResourceNotFoundException" || !strings.Contains(err.Error(), "function:nope") {
		t.Errorf("unknown function: %v", err)
	}
	_, denied := lambda.NewFromConfig(sdkConfig(t, s, denyKey, testSecret)).PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: sdkaws.String("checkout"), ReservedConcurrentExecutions: sdkaws.Int32(0)})
	_, unknown := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: sdkaws.String("checkout")})
	wantRefusals(t, s, denied, "AccessDeniedException", unknown, "lambda:GetFunctionConfiguration", func() error {
		_, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: sdkaws.String("checkout")})
		return err
	})
	if n := s.Calls("lambda:GetFunctionConfiguration"); n != 6 {
		t.Errorf("GetFunctionConfiguration reached %d times, want 6", n)
	}
}

// updateFunction: a function is found by ARN, updated with its revision, and
// an update with a stale revision is refused and changes nothing.
func updateFunction(t *testing.T, ctx context.Context, c *lambda.Client, s *Server, cfg *lambda.GetFunctionConfigurationOutput) {
	byARN, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: cfg.FunctionArn})
	if err != nil || sdkaws.ToString(byARN.FunctionName) != "checkout" {
		t.Errorf("by ARN: %v %+v", err, byARN)
	}

	up, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: sdkaws.String("checkout"),
		RevisionId:   cfg.RevisionId,
		Environment:  &lambdatypes.Environment{Variables: map[string]string{"FAULT_LATENCY_MS": "500"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sdkaws.ToString(up.RevisionId) == sdkaws.ToString(cfg.RevisionId) || up.Environment.Variables["FAULT_LATENCY_MS"] != "500" {
		t.Errorf("update did not take: %+v", up)
	}
	_, err = c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: sdkaws.String("checkout"),
		RevisionId:   cfg.RevisionId, // stale
		Environment:  &lambdatypes.Environment{Variables: map[string]string{}},
	})
	wantCode(t, err, "PreconditionFailedException", "stale revision")
	if got, _ := s.Function("checkout"); got.Env["FAULT_LATENCY_MS"] != "500" {
		t.Errorf("refused update changed the environment to %v", got.Env)
	}
}

// reserveConcurrency puts, reads and deletes a reservation, and refuses one
// past the account's minimum unreserved concurrency.
func reserveConcurrency(t *testing.T, ctx context.Context, c *lambda.Client) {
	if _, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: sdkaws.String("checkout"), ReservedConcurrentExecutions: sdkaws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	conc, err := c.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: sdkaws.String("checkout")})
	if err != nil || conc.ReservedConcurrentExecutions == nil || *conc.ReservedConcurrentExecutions != 0 {
		t.Errorf("after put 0: %v %+v", err, conc)
	}
	if _, err := c.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: sdkaws.String("checkout")}); err != nil {
		t.Fatal(err)
	}
	conc, err = c.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: sdkaws.String("checkout")})
	if err != nil || conc.ReservedConcurrentExecutions != nil {
		t.Errorf("after delete: %v %+v, want no reservation", err, conc)
	}
	_, err = c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: sdkaws.String("search"), ReservedConcurrentExecutions: sdkaws.Int32(950)})
	wantCode(t, err, "InvalidParameterValueException", "reservation past the account minimum")
}

// readFunction reads a function whole, a page of the list and its tags.
func readFunction(t *testing.T, ctx context.Context, c *lambda.Client, cfg *lambda.GetFunctionConfigurationOutput) {
	fn, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: sdkaws.String("checkout")})
	if err != nil || fn.Configuration == nil || fn.Tags["service"] != "checkout" || fn.Concurrency != nil {
		t.Errorf("GetFunction: %v %+v", err, fn)
	}
	fns, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{MaxItems: sdkaws.Int32(1)})
	if err != nil || len(fns.Functions) != 1 || fns.NextMarker == nil {
		t.Errorf("list page 1: %v %+v", err, fns)
	}
	tags, err := c.ListTags(ctx, &lambda.ListTagsInput{Resource: cfg.FunctionArn})
	if err != nil || tags.Tags["service"] != "checkout" {
		t.Errorf("tags: %v %+v", err, tags)
	}
}

func TestLambdaUpdateInProgress(t *testing.T) {
	s := startServer(t, Options{LambdaUpdateDelay: time.Hour})
	if err := s.AddFunction(Function{Name: "checkout"}); err != nil {
		t.Fatal(err)
	}
	c := lambda.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	ctx := context.Background()
	in := &lambda.UpdateFunctionConfigurationInput{FunctionName: sdkaws.String("checkout"), Environment: &lambdatypes.Environment{Variables: map[string]string{"A": "1"}}}
	up, err := c.UpdateFunctionConfiguration(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if up.LastUpdateStatus != lambdatypes.LastUpdateStatusInProgress {
		t.Errorf("status after update %s, want InProgress", up.LastUpdateStatus)
	}
	if _, err := c.UpdateFunctionConfiguration(ctx, in); apiCode(err) != "ResourceConflictException" {
		t.Errorf("second update during the first: %v, want ResourceConflictException", err)
	}
}

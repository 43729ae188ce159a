package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/fis"
	fistypes "github.com/aws/aws-sdk-go-v2/service/fis/types"
)

// stopTemplate is a template that stops instances and has FIS start them
// again after restart.
func stopTemplate(s *Server, restart string, alarm string, ids ...string) *fis.CreateExperimentTemplateInput {
	arns := make([]string, len(ids))
	for i, id := range ids {
		arns[i] = s.arn("ec2", "instance/"+id)
	}
	stop := []fistypes.CreateExperimentTemplateStopConditionInput{{Source: sdkaws.String("none")}}
	if alarm != "" {
		stop = []fistypes.CreateExperimentTemplateStopConditionInput{{Source: sdkaws.String("aws:cloudwatch:alarm"), Value: sdkaws.String(alarm)}}
	}
	return &fis.CreateExperimentTemplateInput{
		Description:    sdkaws.String("stop checkout"),
		RoleArn:        sdkaws.String("arn:aws:iam::" + DefaultAccount + ":role/gameday-fis"),
		StopConditions: stop,
		Targets: map[string]fistypes.CreateExperimentTemplateTargetInput{
			"Instances": {ResourceType: sdkaws.String("aws:ec2:instance"), ResourceArns: arns, SelectionMode: sdkaws.String("ALL")},
		},
		Actions: map[string]fistypes.CreateExperimentTemplateActionInput{
			"stop": {ActionId: sdkaws.String("aws:ec2:stop-instances"), Parameters: map[string]string{"startInstancesAfterDuration": restart}, Targets: map[string]string{"Instances": "Instances"}},
		},
		Tags: map[string]string{"gameday:run-id": "r1"},
	}
}

// runTemplate creates a template, starts an experiment of it and waits
// until it runs.
func runTemplate(t *testing.T, c *fis.Client, in *fis.CreateExperimentTemplateInput) string {
	t.Helper()
	ctx := context.Background()
	created, err := c.CreateExperimentTemplate(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	x, err := c.StartExperiment(ctx, &fis.StartExperimentInput{ExperimentTemplateId: created.ExperimentTemplate.Id})
	if err != nil {
		t.Fatal(err)
	}
	id := sdkaws.ToString(x.Experiment.Id)
	waitExperiment(t, c, id, fistypes.ExperimentStatusRunning)
	return id
}

func instanceState(t *testing.T, s *Server, id string) string {
	t.Helper()
	in, ok := s.Instance(id)
	if !ok {
		t.Fatalf("instance %s is gone", id)
	}
	return in.State
}

func waitInstance(t *testing.T, s *Server, id, state string) {
	t.Helper()
	eventually(t, func() string {
		if got := instanceState(t, s, id); got != state {
			return fmt.Sprintf("instance %s is %s, want %s", id, got, state)
		}
		return ""
	})
}

// A template made through the API stops its instances while the
// experiment runs, and the endpoint's own timer starts them again at
// startInstancesAfterDuration: nobody calls anything meanwhile.
func TestFISTemplateStopsAndRestartsOnItsOwn(t *testing.T) {
	s := startServer(t, Options{TransitionDelay: 10 * time.Millisecond})
	seedFleet(t, s, 2, func(int) map[string]string { return nil })
	c := fis.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	ctx := context.Background()

	created, err := c.CreateExperimentTemplate(ctx, stopTemplate(s, "PT0.3S", "", InstanceID(1)))
	if err != nil {
		t.Fatal(err)
	}
	tid := sdkaws.ToString(created.ExperimentTemplate.Id)
	if a := created.ExperimentTemplate.Actions["stop"]; sdkaws.ToString(a.ActionId) != "aws:ec2:stop-instances" || a.Parameters["startInstancesAfterDuration"] != "PT0.3S" {
		t.Errorf("template read back as %+v", a)
	}
	x, err := c.StartExperiment(ctx, &fis.StartExperimentInput{ExperimentTemplateId: sdkaws.String(tid), Tags: map[string]string{"gameday:run-id": "r1"}})
	if err != nil {
		t.Fatal(err)
	}
	id := sdkaws.ToString(x.Experiment.Id)
	waitExperiment(t, c, id, fistypes.ExperimentStatusRunning)
	waitInstance(t, s, InstanceID(1), StateStopped)
	if got := instanceState(t, s, InstanceID(2)); got != StateRunning {
		t.Errorf("instance outside the template is %s", got)
	}
	waitInstance(t, s, InstanceID(1), StateRunning)
	waitExperiment(t, c, id, fistypes.ExperimentStatusCompleted)

	if _, err := c.DeleteExperimentTemplate(ctx, &fis.DeleteExperimentTemplateInput{Id: sdkaws.String(tid)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetExperimentTemplate(ctx, &fis.GetExperimentTemplateInput{Id: sdkaws.String(tid)})
	wantCode(t, err, "ResourceNotFoundException", "deleted template")
}

// Stopping the experiment, or its stop condition's alarm firing, starts
// the instances at once.
func TestFISTemplateStopRestarts(t *testing.T) {
	s := startServer(t, Options{TransitionDelay: 10 * time.Millisecond})
	seedFleet(t, s, 2, func(int) map[string]string { return nil })
	c := fis.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	ctx := context.Background()
	const alarm = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-p95"
	for i, stop := range []func(id string){
		func(id string) {
			if _, err := c.StopExperiment(ctx, &fis.StopExperimentInput{Id: sdkaws.String(id)}); err != nil {
				t.Fatal(err)
			}
		},
		func(string) { s.SetAlarm(alarm, true) },
	} {
		inst := InstanceID(i + 1)
		id := runTemplate(t, c, stopTemplate(s, "PT1H", alarm, inst))
		waitInstance(t, s, inst, StateStopped)
		stop(id)
		got := waitExperiment(t, c, id, fistypes.ExperimentStatusStopped)
		if i == 1 && !strings.Contains(sdkaws.ToString(got.State.Reason), alarm) {
			t.Errorf("stopped for %q, want the alarm named", sdkaws.ToString(got.State.Reason))
		}
		waitInstance(t, s, inst, StateRunning)
	}
}

func TestFISTemplateRefusals(t *testing.T) {
	s := startServer(t, Options{})
	c := fis.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	ctx := context.Background()
	bad := stopTemplate(s, "5 minutes", "", InstanceID(1))
	_, err := c.CreateExperimentTemplate(ctx, bad)
	wantCode(t, err, "ValidationException", "bad duration")
	bad = stopTemplate(s, "PT5M", "", InstanceID(1))
	bad.Actions["stop"] = fistypes.CreateExperimentTemplateActionInput{ActionId: sdkaws.String("aws:eks:terminate-nodegroup-instances"), Targets: map[string]string{"Instances": "Instances"}}
	_, err = c.CreateExperimentTemplate(ctx, bad)
	wantCode(t, err, "ValidationException", "unserved action")
}

// The SSM and Lambda actions run a real command and mark the function for
// their duration.
func TestFISTemplateSSMAndLambda(t *testing.T) {
	ran := make(chan string, 4)
	s := startServer(t, Options{TransitionDelay: 10 * time.Millisecond, Hooks: Hooks{RunShell: func(ctx context.Context, id string, cmds []string) (string, string, int) {
		ran <- id + ": " + strings.Join(cmds, ";")
		<-ctx.Done()
		return "", "", 1
	}}})
	seedFleet(t, s, 1, func(int) map[string]string { return nil })
	if err := s.AddFunction(Function{Name: "checkout"}); err != nil {
		t.Fatal(err)
	}
	c := fis.NewFromConfig(sdkConfig(t, s, testKey, testSecret))
	doc, _ := json.Marshal(map[string][]string{"commands": {"echo hi"}})
	in := &fis.CreateExperimentTemplateInput{
		Description:    sdkaws.String("ssm and lambda"),
		RoleArn:        sdkaws.String("arn:aws:iam::" + DefaultAccount + ":role/gameday-fis"),
		StopConditions: []fistypes.CreateExperimentTemplateStopConditionInput{{Source: sdkaws.String("none")}},
		Targets: map[string]fistypes.CreateExperimentTemplateTargetInput{
			"Instances": {ResourceType: sdkaws.String("aws:ec2:instance"), ResourceArns: []string{s.arn("ec2", "instance/"+InstanceID(1))}, SelectionMode: sdkaws.String("ALL")},
			"Functions": {ResourceType: sdkaws.String("aws:lambda:function"), ResourceArns: []string{s.functionARN("checkout")}, SelectionMode: sdkaws.String("ALL")},
		},
		Actions: map[string]fistypes.CreateExperimentTemplateActionInput{
			"run":  {ActionId: sdkaws.String("aws:ssm:send-command"), Parameters: map[string]string{"documentArn": "arn:aws:ssm:us-east-1::document/AWS-RunShellScript", "documentParameters": string(doc), "duration": "PT0.4S"}, Targets: map[string]string{"Instances": "Instances"}},
			"fail": {ActionId: sdkaws.String("aws:lambda:invocation-error"), Parameters: map[string]string{"duration": "PT0.4S", "invocationPercentage": "50"}, Targets: map[string]string{"Functions": "Functions"}},
		},
	}
	id := runTemplate(t, c, in)
	select {
	case got := <-ran:
		if got != InstanceID(1)+": echo hi" {
			t.Errorf("ran %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the send-command action ran nothing")
	}
	if f, _ := s.Function("checkout"); len(f.FISFaults) != 1 || f.FISFaults[0] != "aws:lambda:invocation-error" {
		t.Errorf("function faults while running: %v", f.FISFaults)
	}
	waitExperiment(t, c, id, fistypes.ExperimentStatusCompleted)
	if f, _ := s.Function("checkout"); len(f.FISFaults) != 0 {
		t.Errorf("function faults after the experiment: %v", f.FISFaults)
	}
}

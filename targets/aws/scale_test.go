package aws

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gameday/gameday/gamedays"
	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// scaleFleet is 10,000 instances tagged service=checkout on an endpoint
// with the given latency and throttle rate, whose SSM agents record the
// scripts each instance is sent and succeed.
type scaleFleet struct {
	srv *labaws.Server
	mu  sync.Mutex
	ran map[string][]string // instance id -> scripts, in order
}

const fleetSize = 10000

func newScaleFleet(tb testing.TB, latency time.Duration, rate float64) *scaleFleet {
	tb.Helper()
	f := &scaleFleet{ran: map[string][]string{}}
	agent := func(_ context.Context, id string, commands []string) (string, string, int) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.ran[id] = append(f.ran[id], strings.Join(commands, "\n"))
		return "gameday: ok\n", "", 0
	}
	f.srv = labaws.New(labaws.Options{Keys: labKeys, TransitionDelay: 20 * time.Millisecond, Hooks: labaws.Hooks{RunShell: agent},
		Scale: labaws.Scale{Latency: latency, ThrottleRate: rate, Seed: 1}})
	if err := f.srv.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.srv.Close() })
	ins := make([]labaws.Instance, fleetSize)
	for i := range ins {
		ins[i] = labaws.Instance{ID: labaws.InstanceID(i + 1), AZ: []string{"us-east-1a", "us-east-1b", "us-east-1c"}[i%3], Tags: checkout}
	}
	if err := f.srv.AddInstances(ins); err != nil {
		tb.Fatal(err)
	}
	return f
}

// scaleExecutor is the executor as gameday builds it (its retryer
// included), signing for the lab, polling every poll.
func scaleExecutor(tb testing.TB, f *scaleFleet, poll, maxBackoff time.Duration) *Executor {
	tb.Helper()
	return New(Options{
		Region:      "us-east-1",
		Endpoint:    f.srv.URL(),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDGAMEDAY", "lab-secret", ""),
		LoadOptions: hermetic(tb),
		MaxBackoff:  maxBackoff,
		Poll:        poll,
		Wait:        5 * time.Minute,
		Logf: func(format string, args ...any) {
			if strings.HasPrefix(format, "aws sdk") {
				tb.Logf(format, args...)
			}
		},
	})
}

// scaleRun is a game day's three steps on a 10 % blast radius of the
// fleet, as the engine takes them with fanout members at a time: resolve
// the tag across pages, select 1,000, preflight both attacks, inject an
// ssm-command (a Linux cpu burn, carried by Run Command) and then an
// ec2-stop, and roll back in reverse order.
type scaleRun struct {
	chosen []targets.Member
	ssm    map[string]*targets.Injection // by instance id
	errs   []error
	// resolve is the resolution and selection; steps the preflights,
	// injects and rollbacks.
	resolve, steps time.Duration
}

func runScale(ctx context.Context, tb testing.TB, e *Executor, fanout int) (run scaleRun) {
	tb.Helper()
	start := time.Now()
	members, err := e.Resolve(ctx, fleetTarget(checkout, fleetSize))
	if err != nil {
		tb.Fatal(err)
	}
	if len(members) != fleetSize {
		tb.Fatalf("resolved %d of %d", len(members), fleetSize)
	}
	chosen, err := gamedays.Select(members, runbook.BlastRadius{Percent: 10}, 1)
	if err != nil {
		tb.Fatal(err)
	}
	injs := map[string]map[string]*targets.Injection{}
	for _, kind := range []string{"ssm-command", "ec2-stop"} {
		injs[kind] = map[string]*targets.Injection{}
		for _, m := range chosen {
			inj := &targets.Injection{RunID: "scale", Attack: kind, Kind: kind, Member: m, Duration: 5 * time.Minute, Params: map[string]string{}}
			if kind == "ssm-command" {
				inj.Params = map[string]string{"attack": "cpu", "workers": "1", "max_concurrency": "100%", "max_errors": "0"}
			}
			injs[kind][m.ID] = inj
		}
	}
	run = scaleRun{chosen: chosen, ssm: injs["ssm-command"], resolve: time.Since(start)}
	start = time.Now()
	defer func() { run.steps = time.Since(start) }()
	step := func(kind, what string, fn func(*targets.Injection) error) {
		for _, err := range fanOut(chosen, fanout, func(m targets.Member) error { return fn(injs[kind][m.ID]) }) {
			run.errs = append(run.errs, fmt.Errorf("%s %s: %w", what, kind, err))
		}
	}
	for _, kind := range []string{"ssm-command", "ec2-stop"} {
		step(kind, "preflight", func(inj *targets.Injection) error { return e.Preflight(ctx, *inj) })
	}
	step("ssm-command", "inject", func(inj *targets.Injection) error { _, err := e.Inject(ctx, inj); return err })
	step("ec2-stop", "inject", func(inj *targets.Injection) error { _, err := e.Inject(ctx, inj); return err })
	step("ec2-stop", "rollback", func(inj *targets.Injection) error { _, err := e.Rollback(ctx, *inj); return err })
	step("ssm-command", "rollback", func(inj *targets.Injection) error { _, err := e.Rollback(ctx, *inj); return err })
	return run
}

// Throttling at 20 % of every call on an account of 10,000 instances never
// fails a step by itself: the tag is resolved across ten pages, Run
// Command reaches the 1,000 instances of a 10 % blast radius in commands
// of at most 50, EC2 stops and starts them in calls of at most 100, and
// everything is rolled back. What the endpoint recorded shows the
// batching and the throttling the retryer went through.
func TestLabTenThousandUnderThrottling(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 instances")
	}
	f := newScaleFleet(t, 0, 0.2)
	e := scaleExecutor(t, f, 100*time.Millisecond, 20*time.Millisecond)
	// The engine with --fanout 1000: the whole blast radius at once.
	run := runScale(context.Background(), t, e, 1000)
	for i, err := range run.errs {
		if i == 5 {
			t.Errorf("... and %d more", len(run.errs)-5)
			break
		}
		t.Error(err)
	}
	stats := f.srv.Stats()
	var report []string
	for op, st := range stats {
		report = append(report, fmt.Sprintf("%s: %d calls, %d throttled, %d batches", op, st.Calls, st.Throttled, len(st.Batches)))
	}
	sort.Strings(report)
	t.Logf("the endpoint saw:\n%s", strings.Join(report, "\n"))

	// Every instance of the blast radius got its preflight, inject and
	// rollback scripts, in that order, and runs again; no other instance
	// was sent anything.
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ran) != len(run.chosen) {
		t.Errorf("scripts ran on %d instances, want the %d chosen", len(f.ran), len(run.chosen))
	}
	for _, m := range run.chosen {
		pre, in, rb, err := e.ssmScripts(*run.ssm[m.ID])
		if err != nil {
			t.Fatal(err)
		}
		if got := f.ran[m.ID]; strings.Join(got, "\x00") != strings.Join([]string{pre, in, rb}, "\x00") {
			t.Errorf("%s ran %d scripts, want its preflight, inject and rollback in that order", m.ID, len(got))
			break
		}
		if in, _ := f.srv.Instance(m.ID); in.State != labaws.StateRunning {
			t.Errorf("%s is %s after the rollback", m.ID, in.State)
			break
		}
	}

	// Batching: what each answered call named. Every instance is named at
	// least once; the SDK sends a call again when Go's transport drops the
	// connection under its answer (aws/aws-sdk-go-v2#2737, logged above as
	// "failed to discard remaining HTTP response body"), which the endpoint
	// then sees twice: allow two such repeats per operation.
	sizes := func(op string, most, total int) {
		st := stats[op]
		sum := 0
		for _, n := range st.Batches {
			if n > most {
				t.Errorf("%s named %d instances in one call, more than %d", op, n, most)
			}
			sum += n
		}
		if sum < total || sum > total+2*most {
			t.Errorf("%s named %d instances in all, want %d: %v", op, sum, total, st.Batches)
		}
	}
	sizes("ssm:SendCommand", 50, 3*len(run.chosen))
	sizes("ec2:StopInstances", 100, 2*len(run.chosen)) // DryRun and the stop
	sizes("ec2:StartInstances", 100, len(run.chosen))
	sizes("ssm:CancelCommand", 50, len(run.chosen))
	// 3,000 sends in commands of 50 are 60; a slow machine splits some.
	if n := len(stats["ssm:SendCommand"].Batches); n > 150 {
		t.Errorf("%d SendCommand calls for 3 steps on 1,000 instances", n)
	}
	// Rollbacks reach the cancel spread over time (more so on a loaded
	// machine): a few calls per command, far from one per instance.
	if n := len(stats["ssm:CancelCommand"].Batches); n > 200 {
		t.Errorf("%d CancelCommand calls for 1,000 rollbacks", n)
	}
	// Ten pages of 1,000 resolve the tag: nothing else lists by filter, as
	// a second listing would be ten pages more. A page, like any call, is
	// sent again when its answer's connection was dropped, as above, and
	// on a loaded machine that happens to a few.
	if st, pages := stats["ec2:DescribeInstances"], fleetSize/1000; st.Calls-st.Throttled-len(st.Batches) < pages || st.Calls-st.Throttled-len(st.Batches) >= 2*pages {
		t.Errorf("DescribeInstances answered %d pages by filter, want %d (and fewer than %d sent again)", st.Calls-st.Throttled-len(st.Batches), pages, pages)
	}
	// The throttling was real and was retried through.
	throttled := 0
	for _, st := range stats {
		throttled += st.Throttled
	}
	if throttled == 0 || stats["ssm:SendCommand"].Throttled == 0 {
		t.Errorf("nothing was throttled (%d calls, %d SendCommand throttled)", throttled, stats["ssm:SendCommand"].Throttled)
	}
}

// BenchmarkTenThousand times a game day's steps on a 10 % blast radius of
// 10,000 instances (an ssm-command and an ec2-stop on 1,000 instances:
// preflight, inject, rollback), through the real SDK and the executor as
// gameday builds it (the SDK's backoff, up to 20 s), against the endpoint's
// API latency and throttle rate. ns/op is resolution included; steps-s the
// three steps alone; calls and throttled count every API call the endpoint
// answered or refused per run. Polls are every 100 ms (gameday's default
// is 2 s, which would add about 2 s per SSM step).
func BenchmarkTenThousand(b *testing.B) {
	for _, c := range []struct {
		latency time.Duration
		rate    float64
		fanout  int
	}{
		{0, 0, 1000},
		{20 * time.Millisecond, 0, 1000},
		{20 * time.Millisecond, 0, 64},
		{20 * time.Millisecond, 0.2, 1000},
		{100 * time.Millisecond, 0.2, 1000},
	} {
		b.Run(fmt.Sprintf("latency=%s/throttle=%.0f%%/fanout=%d", c.latency, 100*c.rate, c.fanout), func(b *testing.B) {
			f := newScaleFleet(b, c.latency, c.rate)
			e := scaleExecutor(b, f, 100*time.Millisecond, 0)
			var resolve, steps time.Duration
			n := 0
			for b.Loop() {
				run := runScale(context.Background(), b, e, c.fanout)
				if len(run.errs) > 0 {
					b.Fatalf("%d failures, first: %v", len(run.errs), run.errs[0])
				}
				resolve += run.resolve
				steps += run.steps
				n++
			}
			calls, throttled := 0, 0
			for _, st := range f.srv.Stats() {
				calls += st.Calls
				throttled += st.Throttled
			}
			b.ReportMetric(resolve.Seconds()/float64(n), "resolve-s")
			b.ReportMetric(steps.Seconds()/float64(n), "steps-s")
			b.ReportMetric(float64(calls)/float64(n), "calls")
			b.ReportMetric(float64(throttled)/float64(n), "throttled")
		})
	}
}

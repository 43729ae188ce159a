package aws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/gameday/gameday/targets"
)

// fn is the name an injection calls its function by: the ARN when resolved
// with one, so a journal replayed elsewhere hits exactly that function.
func fn(inj targets.Injection) *string {
	if inj.Member.Addr != "" {
		return sdkaws.String(inj.Member.Addr)
	}
	return sdkaws.String(inj.Member.ID)
}

func getConcurrency(ctx context.Context, s *session, inj targets.Injection) (string, error) {
	out, err := s.Lambda.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: fn(inj)})
	if err != nil {
		return "", fmt.Errorf("lambda GetFunctionConcurrency: %w", explain(err))
	}
	return concurrencyText(out.ReservedConcurrentExecutions), nil
}

var lambdaThrottle = attack{
	plan: func(e *Executor, inj targets.Injection) []string {
		name := sdkaws.ToString(fn(inj))
		return []string{
			"preflight: lambda GetFunctionConcurrency --function-name " + name,
			"inject: lambda GetFunctionConcurrency (recorded), PutFunctionConcurrency --function-name " + name + " --reserved-concurrent-executions " + inj.Params["concurrency"],
			"rollback: lambda PutFunctionConcurrency to the recorded value, or DeleteFunctionConcurrency if there was none",
		}
	},
	preflight: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error {
		_, err := getConcurrency(ctx, s, inj)
		return err
	},
	inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
		prev, err := getConcurrency(ctx, s, *inj)
		if err != nil {
			return targets.Result{}, err
		}
		inj.State["previous_concurrency"] = prev
		n, err := strconv.Atoi(inj.Params["concurrency"])
		if err != nil {
			return targets.Result{}, fmt.Errorf("concurrency %q: %w", inj.Params["concurrency"], err)
		}
		e.opts.Logf("aws %s: lambda PutFunctionConcurrency %d", inj.Member.ID, n)
		if _, err := s.Lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: fn(*inj), ReservedConcurrentExecutions: sdkaws.Int32(int32(n))}); err != nil {
			return targets.Result{}, fmt.Errorf("lambda PutFunctionConcurrency: %w", explain(err))
		}
		return targets.Result{Output: fmt.Sprintf("reserved concurrency %s -> %d", prev, n)}, nil
	},
	rollback: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
		prev := inj.State["previous_concurrency"]
		if prev == "" {
			// The inject's record was lost; the value found at resolve
			// time is the best account of what was there before.
			prev = inj.Member.Labels[LabelConcurrency]
		}
		if prev == "" {
			return targets.Result{}, fmt.Errorf("the previous reserved concurrency was not recorded; set it by hand")
		}
		cur, err := getConcurrency(ctx, s, inj)
		if err != nil {
			return targets.Result{}, err
		}
		if cur == prev {
			return targets.Result{Output: "reserved concurrency is " + prev + " as before"}, nil
		}
		if set := inj.Params["concurrency"]; cur != set {
			return targets.Result{}, fmt.Errorf("reserved concurrency is now %s, but the attack set %s and it was %s before: someone changed it since, so it is left alone; restore %s by hand if that is right", cur, set, prev, prev)
		}
		if prev == "none" {
			e.opts.Logf("aws %s: lambda DeleteFunctionConcurrency", inj.Member.ID)
			if _, err := s.Lambda.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: fn(inj)}); err != nil {
				return targets.Result{}, fmt.Errorf("lambda DeleteFunctionConcurrency: %w", explain(err))
			}
			return targets.Result{Output: "reserved concurrency " + cur + " -> none"}, nil
		}
		n, err := strconv.Atoi(prev)
		if err != nil {
			return targets.Result{}, fmt.Errorf("recorded reserved concurrency %q is not a number", prev)
		}
		e.opts.Logf("aws %s: lambda PutFunctionConcurrency %d", inj.Member.ID, n)
		if _, err := s.Lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: fn(inj), ReservedConcurrentExecutions: sdkaws.Int32(int32(n))}); err != nil {
			return targets.Result{}, fmt.Errorf("lambda PutFunctionConcurrency: %w", explain(err))
		}
		return targets.Result{Output: "reserved concurrency " + cur + " -> " + prev}, nil
	},
}

// The environment variables lambda-fault sets. A layer or library in the
// function reads them on each invocation; docs/aws.md describes the
// contract. FaultUntil is the attack's own bound: past it the layer must
// ignore the others, so a fault outlives a dead console by no more than
// the grace.
const (
	FaultPrefix     = "GAMEDAY_FAULT_"
	FaultRun        = FaultPrefix + "RUN"         // run id of the attack that set them
	FaultLatencyMS  = FaultPrefix + "LATENCY_MS"  // delay per affected invocation, milliseconds
	FaultErrorRate  = FaultPrefix + "ERROR_RATE"  // share of invocations that fail, 0-1
	FaultStatusCode = FaultPrefix + "STATUS_CODE" // status a failed invocation returns
	FaultUntil      = FaultPrefix + "UNTIL"       // Unix seconds after which the fault is off
)

// faultVars are the variables an injection adds.
func (e *Executor) faultVars(inj targets.Injection) (map[string]string, error) {
	v, err := e.parse(inj)
	if err != nil {
		return nil, err
	}
	out := map[string]string{
		FaultRun:   inj.RunID,
		FaultUntil: strconv.FormatInt(e.now().Add(inj.Duration+e.opts.Grace).Unix(), 10),
	}
	if v.Has("latency") {
		out[FaultLatencyMS] = strconv.FormatInt(v.Duration("latency").Milliseconds(), 10)
	}
	if v.Has("error_rate") {
		out[FaultErrorRate] = strconv.FormatFloat(v.Ratio("error_rate"), 'f', -1, 64)
		out[FaultStatusCode] = strconv.FormatInt(v.Int("status_code"), 10)
	}
	return out, nil
}

// fingerprint records an environment without its values, which are often
// secrets and have no place in a journal: each key with a short hash of
// its value, salted with the run id.
func fingerprint(runID string, env map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(env)) {
		h := sha256.Sum256([]byte(runID + "\x00" + k + "=" + env[k]))
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(k + "=" + hex.EncodeToString(h[:4]))
	}
	return b.String()
}

func parseFingerprint(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}

// envChanges says how an environment now differs from the one recorded.
func envChanges(recorded, now map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(recorded)) {
		v, ok := now[k]
		switch {
		case !ok:
			out = append(out, k+" removed")
		case v != recorded[k]:
			out = append(out, k+" changed")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(now)) {
		if _, ok := recorded[k]; !ok {
			out = append(out, k+" added")
		}
	}
	return out
}

type function struct {
	env      map[string]string
	revision string
}

func getFunction(ctx context.Context, s *session, inj targets.Injection) (function, error) {
	out, err := s.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: fn(inj)})
	if err != nil {
		return function{}, fmt.Errorf("lambda GetFunctionConfiguration: %w", explain(err))
	}
	f := function{env: map[string]string{}, revision: sdkaws.ToString(out.RevisionId)}
	if out.Environment != nil {
		if out.Environment.Error != nil {
			return f, fmt.Errorf("the function's environment cannot be read: %s: %s", sdkaws.ToString(out.Environment.Error.ErrorCode), sdkaws.ToString(out.Environment.Error.Message))
		}
		maps.Copy(f.env, out.Environment.Variables)
	}
	return f, nil
}

// faultKeys lists the fault variables present in env.
func faultKeys(env map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if strings.HasPrefix(k, FaultPrefix) {
			out = append(out, k)
		}
	}
	return out
}

// setEnvironment writes env under the revision it was read at, so a change
// made in between is refused by Lambda rather than overwritten. A function
// still applying an earlier update answers ResourceConflictException; that
// is waited out.
func (e *Executor) setEnvironment(ctx context.Context, s *session, inj targets.Injection, env map[string]string, revision string) (string, error) {
	ctx, cancel := e.bound(ctx)
	defer cancel()
	var tries int
	count := func(o *lambda.Options) { o.APIOptions = append(o.APIOptions, attempts(&tries)) }
	for {
		e.opts.Logf("aws %s: lambda UpdateFunctionConfiguration (environment)", inj.Member.ID)
		out, err := s.Lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
			FunctionName: fn(inj),
			Environment:  &lambdatypes.Environment{Variables: env},
			RevisionId:   nonEmpty(revision),
		}, count)
		if err == nil {
			return sdkaws.ToString(out.RevisionId), nil
		}
		if tries > 1 && apiCode(err) == "PreconditionFailedException" {
			// An attempt whose answer was lost may have written env
			// already: the revision moved because of it.
			if got, gerr := s.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: fn(inj)}); gerr == nil &&
				got.Environment != nil && maps.Equal(got.Environment.Variables, env) {
				e.opts.Logf("aws %s: lambda UpdateFunctionConfiguration: an earlier attempt wrote the environment; its answer was lost", inj.Member.ID)
				return sdkaws.ToString(got.RevisionId), nil
			}
		}
		if apiCode(err) != "ResourceConflictException" {
			if apiCode(err) == "PreconditionFailedException" {
				return "", fmt.Errorf("the function changed while gameday was updating it (revision %s is no longer current); nothing was written: %w", revision, explain(err))
			}
			return "", fmt.Errorf("lambda UpdateFunctionConfiguration: %w", explain(err))
		}
		if !e.sleep(ctx) {
			return "", fmt.Errorf("lambda UpdateFunctionConfiguration: the function stayed busy with another update: %w", explain(err))
		}
	}
}

var lambdaFault = attack{
	plan: func(e *Executor, inj targets.Injection) []string {
		name := sdkaws.ToString(fn(inj))
		vars, err := e.faultVars(inj)
		if err != nil {
			return []string{"cannot plan: " + err.Error()}
		}
		var set []string
		for _, k := range slices.Sorted(maps.Keys(vars)) {
			set = append(set, k+"="+vars[k])
		}
		return []string{
			"preflight: lambda GetFunctionConfiguration --function-name " + name,
			"inject: lambda GetFunctionConfiguration, UpdateFunctionConfiguration --revision-id CURRENT adding " + strings.Join(set, " "),
			"rollback: lambda GetFunctionConfiguration; if the environment is as the inject left it, UpdateFunctionConfiguration removing " + FaultPrefix + "*, else refuse and say what changed",
		}
	},
	preflight: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error {
		f, err := getFunction(ctx, s, inj)
		if err != nil {
			return err
		}
		if keys := faultKeys(f.env); len(keys) > 0 {
			return fmt.Errorf("the function already carries %s (run %q); roll that attack back first", strings.Join(keys, ", "), f.env[FaultRun])
		}
		return nil
	},
	inject: func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error) {
		f, err := getFunction(ctx, s, *inj)
		if err != nil {
			return targets.Result{}, err
		}
		if keys := faultKeys(f.env); len(keys) > 0 {
			return targets.Result{}, fmt.Errorf("the function already carries %s (run %q); roll that attack back first", strings.Join(keys, ", "), f.env[FaultRun])
		}
		vars, err := e.faultVars(*inj)
		if err != nil {
			return targets.Result{}, err
		}
		env := maps.Clone(f.env)
		maps.Copy(env, vars)
		inj.State["previous_revision"] = f.revision
		inj.State["previous_env"] = fingerprint(inj.RunID, f.env)
		rev, err := e.setEnvironment(ctx, s, *inj, env, f.revision)
		if err != nil {
			return targets.Result{}, err
		}
		inj.State["revision"] = rev
		inj.State["env"] = fingerprint(inj.RunID, env)
		return targets.Result{Output: fmt.Sprintf("set %s (revision %s -> %s)", strings.Join(slices.Sorted(maps.Keys(vars)), ", "), f.revision, rev)}, nil
	},
	rollback: func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error) {
		f, err := getFunction(ctx, s, inj)
		if err != nil {
			return targets.Result{}, err
		}
		keys := faultKeys(f.env)
		if len(keys) == 0 {
			if rec := inj.State["previous_env"]; rec != "" {
				if ch := envChanges(parseFingerprint(rec), parseFingerprint(fingerprint(inj.RunID, f.env))); len(ch) > 0 {
					return targets.Result{Output: "no fault variables are set; the environment differs from before the attack (" + strings.Join(ch, ", ") + "), changed by someone else"}, nil
				}
			}
			return targets.Result{Output: "no fault variables are set"}, nil
		}
		if run := f.env[FaultRun]; run != inj.RunID {
			return targets.Result{}, fmt.Errorf("the function carries fault variables of run %q, not of this run %q; left alone", run, inj.RunID)
		}
		if rec := inj.State["env"]; rec != "" {
			if ch := envChanges(parseFingerprint(rec), parseFingerprint(fingerprint(inj.RunID, f.env))); len(ch) > 0 {
				return targets.Result{}, fmt.Errorf("refusing to restore: the environment changed since the inject (%s; revision %s, the inject left %s), and restoring would undo that change; remove the %s* variables by hand once you have checked",
					strings.Join(ch, ", "), f.revision, inj.State["revision"], FaultPrefix)
			}
		}
		env := maps.Clone(f.env)
		for _, k := range keys {
			delete(env, k)
		}
		if rec := inj.State["previous_env"]; rec != "" && fingerprint(inj.RunID, env) != rec {
			ch := envChanges(parseFingerprint(rec), parseFingerprint(fingerprint(inj.RunID, env)))
			return targets.Result{}, fmt.Errorf("refusing to restore: without the fault variables the environment would not be the one before the attack (%s)", strings.Join(ch, ", "))
		}
		rev, err := e.setEnvironment(ctx, s, inj, env, f.revision)
		if err != nil {
			return targets.Result{}, err
		}
		return targets.Result{Output: fmt.Sprintf("removed %s (revision %s -> %s)", strings.Join(keys, ", "), f.revision, rev)}, nil
	},
}

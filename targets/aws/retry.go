package aws

import (
	"context"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
)

// throttling recognises AWS's throttling errors by code, as the SDK does
// (RequestLimitExceeded, Throttling, ThrottlingException,
// TooManyRequestsException, ...).
var throttling = retry.IsErrorThrottles(retry.DefaultThrottles)

// throttleRetryer is the SDK's standard retryer (exponential backoff with
// jitter, up to MaxBackoff) with more patience for throttling than for
// other failures. At fleet scale an account's rate limits answer a share
// of calls with throttling for as long as the fan-out lasts, and one
// batched call speaks for up to 100 members: a call given up after five
// throttled attempts would fail them all although AWS is only asking it to
// slow down. So a throttled call is retried up to ThrottleAttempts times,
// and its retries do not draw on the retry quota, which is there to stop
// retry storms against a failing service (5xx, timeouts): a throttled
// call already waits its backoff, and an emptied quota would fail every
// later call at once, without waiting. Other errors keep MaxAttempts and
// the quota.
type throttleRetryer struct {
	sdkaws.RetryerV2
	others, throttled int
}

func newRetryer(o Options) sdkaws.Retryer {
	return &throttleRetryer{
		RetryerV2: retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = max(o.MaxAttempts, o.ThrottleAttempts)
			so.MaxBackoff = o.MaxBackoff
		}),
		others:    o.MaxAttempts,
		throttled: o.ThrottleAttempts,
	}
}

// MaxAttempts is the most any call gets: the middleware stops there.
func (r *throttleRetryer) MaxAttempts() int { return max(r.others, r.throttled) }

// RetryDelay ends the retries of a call that failed otherwise than by
// throttling once it has had MaxAttempts, or one throttled ThrottleAttempts
// times when those are fewer.
func (r *throttleRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	limit := r.others
	if throttling.IsErrorThrottle(err).Bool() {
		limit = r.throttled
	}
	if attempt >= limit {
		return 0, &retry.MaxAttemptsError{Attempt: attempt, Err: err}
	}
	return r.RetryerV2.RetryDelay(attempt, err)
}

// GetRetryToken takes nothing from the retry quota for throttling.
func (r *throttleRetryer) GetRetryToken(ctx context.Context, err error) (func(error) error, error) {
	if throttling.IsErrorThrottle(err).Bool() {
		return func(error) error { return nil }, nil
	}
	return r.RetryerV2.GetRetryToken(ctx, err)
}

// attempts counts the attempts the SDK makes of one call. A call the SDK
// sent again after a connection dropped under its answer has most likely
// acted already: its retry meets the state the first attempt left, and is
// refused for it (a failover under way, a rule already gone). Such a
// refusal after a second attempt is checked against the resource before it
// counts as a failed inject.
func attempts(n *int) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("gamedayAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				*n++
				return next.HandleFinalize(ctx, in)
			}), "Retry", middleware.After)
	}
}

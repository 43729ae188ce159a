package aws

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// Throttling gets ThrottleAttempts and leaves the retry quota alone; other
// retryable errors get MaxAttempts and drain it, as the SDK's own do.
func TestRetryerIsPatientWithThrottlingOnly(t *testing.T) {
	r := newRetryer(Options{}.withDefaults()).(*throttleRetryer)
	throttled := &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
	failing := &smithy.GenericAPIError{Code: "RequestTimeoutException", Message: "the service timed out"}
	if !r.IsErrorRetryable(throttled) || !r.IsErrorRetryable(failing) {
		t.Fatal("the standard retryer no longer retries these")
	}
	if r.MaxAttempts() != 12 {
		t.Errorf("MaxAttempts %d, want 12", r.MaxAttempts())
	}
	var maxErr *retry.MaxAttemptsError
	for attempt := 1; attempt <= 12; attempt++ {
		_, err := r.RetryDelay(attempt, throttled)
		if (attempt < 12) != (err == nil) || (err != nil && !errors.As(err, &maxErr)) {
			t.Errorf("throttled, attempt %d: %v", attempt, err)
		}
		_, err = r.RetryDelay(attempt, failing)
		if (attempt < 5) != (err == nil) {
			t.Errorf("failing, attempt %d: %v", attempt, err)
		}
	}
	// The quota is 500 tokens, 5 a retry: a throttled call never meets it.
	ctx := context.Background()
	for i := 0; i < 1000; i++ {
		if _, err := r.GetRetryToken(ctx, throttled); err != nil {
			t.Fatalf("throttled retry %d refused: %v", i, err)
		}
	}
	refused := 0
	for i := 0; i < 200; i++ {
		if _, err := r.GetRetryToken(ctx, failing); err != nil {
			refused++
		}
	}
	if refused != 100 {
		t.Errorf("%d of 200 retries of a failing service refused, want the 100 beyond the quota", refused)
	}
	if d, err := r.RetryDelay(1, throttled); err != nil || d > 2*time.Second {
		t.Errorf("first backoff %s, %v: want the SDK's, at most 2s", d, err)
	}
}

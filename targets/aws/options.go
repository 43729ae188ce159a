package aws

import (
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/gameday/gameday/targets"
)

// Options configures an Executor. The zero value uses the SDK's default
// configuration chain.
type Options struct {
	// Profile is the shared-config profile for targets that name none.
	Profile string
	// Region is used for targets that name none; empty leaves it to the
	// SDK (AWS_REGION, the profile).
	Region string
	// Endpoint is the base endpoint for targets that name none, such as
	// the lab's; empty leaves it to the SDK (AWS_ENDPOINT_URL and friends).
	Endpoint string
	// Credentials, when set, replaces the SDK's credential chain.
	Credentials sdkaws.CredentialsProvider
	// LoadOptions are passed to config.LoadDefaultConfig after ours.
	LoadOptions []func(*config.LoadOptions) error
	// MaxAttempts bounds the SDK standard retryer's attempts per call,
	// first included. Default 5.
	MaxAttempts int
	// ThrottleAttempts bounds the attempts of a call that AWS keeps
	// throttling (RequestLimitExceeded, ThrottlingException, ...), first
	// included; such retries also skip the SDK's retry quota. Default 12.
	ThrottleAttempts int
	// MaxBackoff bounds the retryer's wait between attempts. Default 20s,
	// the SDK's.
	MaxBackoff time.Duration
	// Grace is added to an attack's duration for the bounds armed on the
	// AWS side (the dead man's switch of an SSM command, a Lambda fault's
	// expiry). Default 30s.
	Grace time.Duration
	// Poll is the interval between state checks while waiting for an
	// instance, a command or an experiment. Default 2s.
	Poll time.Duration
	// Wait bounds one wait for a state (an instance running again, a
	// command finished) when the caller's context has no earlier deadline.
	// Default 5m.
	Wait time.Duration
	// BatchWindow is how long a call waits for the same call on other
	// members, to be sent to AWS as one request. Default 20ms.
	BatchWindow time.Duration
	// Follow, when set, receives a sentence each time an engine: fis
	// experiment enters a new status between its inject and its rollback
	// (running, completed at its duration, stopped by a stop condition),
	// so the run's journal can say when AWS ended the fault.
	Follow func(inj targets.Injection, msg string)
	// Ended, when set, is told instead of Follow when a followed experiment
	// ends before its rollback (completed, stopped by a stop condition,
	// failed): the fault is no longer in place, and the run must know it
	// to judge the hypothesis only over a fault that held.
	Ended func(inj targets.Injection, msg string)
	// FollowEvery is how often a followed experiment is read. Default 10s.
	FollowEvery time.Duration
	// Logf, when set, receives one line per API call that changes something.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	targets.OrDefault(&o.MaxAttempts, 5)
	targets.OrDefault(&o.ThrottleAttempts, 12)
	targets.OrDefault(&o.MaxBackoff, 20*time.Second)
	targets.OrDefault(&o.Grace, 30*time.Second)
	targets.OrDefault(&o.Poll, 2*time.Second)
	targets.OrDefault(&o.Wait, 5*time.Minute)
	targets.OrDefault(&o.BatchWindow, 20*time.Millisecond)
	targets.OrDefault(&o.FollowEvery, 10*time.Second)
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

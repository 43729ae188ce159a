package aws

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/gameday/gameday/targets"
)

// hermetic keeps the SDK away from the machine's own AWS files and
// credentials.
func hermetic(t testing.TB) []func(*config.LoadOptions) error {
	t.Helper()
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CA_BUNDLE"} {
		t.Setenv(k, "")
	}
	return []func(*config.LoadOptions) error{
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	}
}

// preflightInject runs inj's preflight and then its inject, as the engine
// does, failing the test on either's error.
func preflightInject(ctx context.Context, t testing.TB, e *Executor, inj *targets.Injection) {
	t.Helper()
	if err := e.Preflight(ctx, *inj); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Inject(ctx, inj); err != nil {
		t.Fatal(err)
	}
}

// member is a member of target t, made by hand as if resolved in account
// in eu-west-1, for tests that need no resolution.
func member(id, account string, labels map[string]string) targets.Member {
	l := map[string]string{LabelRegion: "eu-west-1", LabelAccount: account}
	for k, v := range labels {
		l[k] = v
	}
	return targets.Member{Target: "t", ID: id, Labels: l}
}

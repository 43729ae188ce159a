package aws

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	labaws "github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/runbook"
)

// The credential checks run the SDK's real provider chain (environment,
// shared config with credential_process and SSO) against the lab
// endpoint, which also knows session keys that expire.

// profileExecutor loads credentials only from the config file written for
// the test, as a person's ~/.aws/config would give them.
func profileExecutor(t *testing.T, srv *labaws.Server, profile, configText string) *Executor {
	t.Helper()
	hermetic(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	// The instance role is the chain's last resort; it must never be
	// asked for over the network from a test.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfgFile := filepath.Join(home, "config")
	if err := os.WriteFile(cfgFile, []byte(configText), 0o600); err != nil {
		t.Fatal(err)
	}
	return New(Options{
		Region:   "us-east-1",
		Endpoint: srv.URL(),
		Profile:  profile,
		LoadOptions: []func(*config.LoadOptions) error{
			config.WithSharedConfigFiles([]string{cfgFile}),
			config.WithSharedCredentialsFiles([]string{filepath.Join(home, "credentials")}),
		},
		MaxBackoff: 20 * time.Millisecond,
		Poll:       10 * time.Millisecond,
	})
}

func credTarget(srv *labaws.Server) runbook.Target {
	return runbook.Target{Name: "fleet", AWS: &runbook.AWSTarget{Region: "us-east-1", Resource: "ec2:instance", Accounts: []string{labAccount}, Endpoint: srv.URL()}}
}

func wantCredErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	t.Logf("error: %v", err)
	if !errors.Is(err, ErrCredentials) {
		t.Fatalf("want a credentials error, got %v", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not say %q", err, p)
		}
	}
	if strings.Contains(err.Error(), "StatusCode") || strings.Contains(err.Error(), "169.254") {
		t.Errorf("error %q shows the SDK's raw chain", err)
	}
}

func TestLabCredentialsMissing(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	e := profileExecutor(t, srv, "", "")
	err := e.CheckCredentials(context.Background(), credTarget(srv), time.Minute, false)
	wantCredErr(t, err, "no credentials found", "AWS_PROFILE")
	if n := srv.Calls("sts:GetCallerIdentity"); n != 0 {
		t.Errorf("with no credentials, %d STS calls were made", n)
	}
}

// processProfile is a profile whose credentials come from a
// credential_process printing keys that expire at exp.
func processProfile(t *testing.T, key labaws.Key, exp time.Time) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "creds.json")
	body := fmt.Sprintf(`{"Version":1,"AccessKeyId":%q,"SecretAccessKey":%q,"SessionToken":%q,"Expiration":%q}`, key.AccessKeyID, key.SecretAccessKey, key.SessionToken, exp.UTC().Format(time.RFC3339))
	if err := os.WriteFile(out, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return "[profile temp]\nregion = us-east-1\ncredential_process = cat " + out + "\n"
}

func TestLabCredentialsExpireBeforeTheEnd(t *testing.T) {
	exp := time.Now().Add(10 * time.Minute).Truncate(time.Second)
	key := labaws.Key{AccessKeyID: "ASIATEMP", SecretAccessKey: "temp-secret", SessionToken: "session-token", Expires: exp}
	srv := labaws.New(labaws.Options{Keys: []labaws.Key{key}, TransitionDelay: 20 * time.Millisecond})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e := profileExecutor(t, srv, "temp", processProfile(t, key, exp))
	ctx := context.Background()

	err := e.CheckCredentials(ctx, credTarget(srv), time.Hour, false)
	wantCredErr(t, err, "expire at "+exp.UTC().Format(time.RFC3339), "planned end", "engine: fis", "aws sso login --profile temp")
	if srv.Calls("sts:GetCallerIdentity") != 1 {
		t.Errorf("the check did not ask STS who the credentials are")
	}
	// AWS ends FIS faults itself, so lapsing credentials do not strand one.
	if err := e.CheckCredentials(ctx, credTarget(srv), time.Hour, true); err != nil {
		t.Errorf("bounded by AWS: %v", err)
	}
	// A run that ends, grace included, before the expiry goes ahead.
	if err := e.CheckCredentials(ctx, credTarget(srv), 5*time.Minute, false); err != nil {
		t.Errorf("a run ending before the expiry: %v", err)
	}
}

func TestLabCredentialsExpiredSession(t *testing.T) {
	key := labaws.Key{AccessKeyID: "ASIAOLD", SecretAccessKey: "old-secret", SessionToken: "old-token", Expires: time.Now().Add(-time.Minute)}
	srv := labaws.New(labaws.Options{Keys: []labaws.Key{key}})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	// Environment-style session keys carry no expiry: the endpoint is
	// the one that says they lapsed.
	e := New(Options{Region: "us-east-1", Endpoint: srv.URL(), LoadOptions: hermetic(t), MaxBackoff: 20 * time.Millisecond,
		Credentials: credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.SecretAccessKey, key.SessionToken)})
	err := e.CheckCredentials(context.Background(), credTarget(srv), time.Minute, false)
	wantCredErr(t, err, "expired", "ExpiredToken", "aws sso login")

	// A credential_process that reports them expired is refused before
	// any call.
	calls := srv.Calls("sts:GetCallerIdentity")
	e = profileExecutor(t, srv, "temp", processProfile(t, key, key.Expires))
	err = e.CheckCredentials(context.Background(), credTarget(srv), time.Minute, false)
	wantCredErr(t, err, "expired")
	if srv.Calls("sts:GetCallerIdentity") != calls {
		t.Errorf("expired credentials were sent to STS")
	}
}

func TestLabCredentialsSSOExpired(t *testing.T) {
	srv := startLab(t, labaws.Hooks{})
	const start = "https://example.awsapps.com/start"
	e := profileExecutor(t, srv, "dev", "[profile dev]\nregion = us-east-1\nsso_start_url = "+start+"\nsso_region = us-east-1\nsso_account_id = "+labAccount+"\nsso_role_name = gameday\n")
	// The token `aws sso login` cached, expired an hour ago.
	sum := sha1.Sum([]byte(start))
	cache := filepath.Join(os.Getenv("HOME"), ".aws", "sso", "cache")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	tok := fmt.Sprintf(`{"accessToken":"old","expiresAt":%q,"region":"us-east-1","startUrl":%q}`, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), start)
	if err := os.WriteFile(filepath.Join(cache, hex.EncodeToString(sum[:])+".json"), []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	err := e.CheckCredentials(context.Background(), credTarget(srv), time.Minute, false)
	wantCredErr(t, err, "SSO session of profile dev", "aws sso login --profile dev")
}

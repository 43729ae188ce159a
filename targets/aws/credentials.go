package aws

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"

	"github.com/gameday/gameday/runbook"
)

// ErrCredentials marks a failure to get usable credentials: none found,
// expired, or an SSO session that needs a new login. The command maps it
// to "blocked before anything ran".
var ErrCredentials = errors.New("AWS credentials")

// retrieve asks the configuration's provider for credentials before any
// call, so that a missing, expired or SSO-expired set is named as such
// rather than as the SDK's chain of attempts (IMDS and all).
func retrieve(ctx context.Context, cfg sdkaws.Config, w where) (sdkaws.Credentials, error) {
	profile := profileName(w)
	if cfg.Credentials == nil {
		return sdkaws.Credentials{}, noCredentials(w)
	}
	c, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		var sso *ssocreds.InvalidTokenError
		if errors.As(err, &sso) {
			return c, fmt.Errorf("%w (%s): the SSO session of profile %s has expired or is invalid; run: aws sso login --profile %s", ErrCredentials, w, profile, profile)
		}
		// The default chain ends with the instance role; when it fails
		// there, nothing earlier in the chain had credentials.
		if strings.Contains(err.Error(), "EC2 IMDS") {
			return c, noCredentials(w)
		}
		return c, fmt.Errorf("%w (%s): cannot get credentials of profile %s: %v", ErrCredentials, w, profile, err)
	}
	if c.CanExpire && !c.Expires.IsZero() && !time.Now().Before(c.Expires) {
		return c, expired(w, c.Expires)
	}
	return c, nil
}

func noCredentials(w where) error {
	return fmt.Errorf("%w (%s): no credentials found: set AWS_PROFILE (after aws configure or aws sso login), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile: on the target", ErrCredentials, w)
}

func expired(w where, at time.Time) error {
	return fmt.Errorf("%w (%s): the credentials expired at %s; renew them (aws sso login --profile %s, or new session keys) and run again", ErrCredentials, w, at.UTC().Format(time.RFC3339), profileName(w))
}

// expiredCode says whether an AWS error code means the request's temporary
// credentials have lapsed, as STS, EC2 and the JSON services word it.
func expiredCode(code string) bool {
	switch code {
	case "ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired":
		return true
	}
	return false
}

func profileName(w where) string {
	if w.Profile != "" {
		return w.Profile
	}
	if p := os.Getenv("AWS_PROFILE"); p != "" {
		return p
	}
	return "default"
}

// CheckCredentials proves, before anything is measured or touched, that the
// credentials for target t work (STS GetCallerIdentity) and that they last
// for the whole run: until now + need. A run whose credentials lapse
// earlier is refused unless bounded says AWS itself ends every fault on
// this target (FIS), since a console whose credentials have expired can
// undo nothing.
func (e *Executor) CheckCredentials(ctx context.Context, t runbook.Target, need time.Duration, bounded bool) error {
	a := t.AWS
	if a == nil {
		return fmt.Errorf("target %s is not an aws target", t.Name)
	}
	w := where{Profile: cmp.Or(a.Profile, e.opts.Profile), Region: cmp.Or(a.Region, e.opts.Region), Endpoint: cmp.Or(a.Endpoint, e.opts.Endpoint)}
	s, err := e.ss.get(ctx, w)
	if err != nil {
		return fmt.Errorf("target %s: %w", t.Name, err)
	}
	if s.expires.IsZero() || bounded {
		return nil
	}
	end := e.now().Add(need + e.opts.Grace)
	if s.expires.Before(end) {
		return fmt.Errorf("%w: target %s (%s): the credentials expire at %s, before the run's planned end with grace (%s, %s from now); renew them first (aws sso login --profile %s, or longer session keys), or use engine: fis so that AWS ends the faults on time",
			ErrCredentials, t.Name, s.where, s.expires.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), runbook.FormatDuration(need+e.opts.Grace), profileName(s.where))
	}
	return nil
}

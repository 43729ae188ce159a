package main

import (
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/aws"
)

func init() { families[targets.FamilyAWS] = newAWS }

// newAWS builds the aws family. The SDK's own chain (profiles, SSO,
// AWS_* variables) configures it; a runFlags.Getenv, as gameday lab sets
// one, can hand it a region, an endpoint and static keys without touching
// the process environment.
func newAWS(f *runFlags) (targets.Resolver, targets.Executor, error) {
	var o aws.Options
	if f.Getenv != nil {
		o.Profile = f.Getenv("AWS_PROFILE")
		o.Region = f.Getenv("AWS_REGION")
		o.Endpoint = f.Getenv("AWS_ENDPOINT_URL")
		id, secret := f.Getenv("AWS_ACCESS_KEY_ID"), f.Getenv("AWS_SECRET_ACCESS_KEY")
		if id != "" && secret != "" {
			o.Credentials = credentials.NewStaticCredentialsProvider(id, secret, f.Getenv("AWS_SESSION_TOKEN"))
		}
	}
	if f.Notes != nil {
		o.Follow = func(_ targets.Injection, msg string) { f.Notes("fis", msg) }
	}
	if f.Ended != nil {
		o.Ended = func(inj targets.Injection, msg string) { f.Ended("fis", inj, msg) }
	}
	e := aws.New(o)
	return e, e, nil
}

// Package aws carries out the attacks of the aws family with
// aws-sdk-go-v2: EC2 stop, reboot and terminate, Linux attacks through SSM
// Run Command, FIS experiments, Lambda throttling and fault injection, ECS
// task stops, RDS failovers, Auto Scaling process suspension, security
// group blackholes and DynamoDB capacity cuts: every aws kind of the
// catalogue.
// It implements targets.Resolver and targets.Executor.
//
// Configuration comes from config.LoadDefaultConfig (profiles, SSO,
// environment, AWS_ENDPOINT_URL and per-service endpoints), with a runbook
// target's region, profile and endpoint on top. Each (profile, region,
// endpoint) gets one set of clients for the whole game day.
//
// Before any other call on a set of clients, STS GetCallerIdentity names
// the account the credentials act in; a target refuses every account its
// runbook does not list, and every later call checks that the account is
// still the one the member was resolved in.
//
// A resolved member carries, in its labels, the region, endpoint, profile
// and account it was found in, and what Inject needs to know about its
// state before the attack (the instance state, a function's reserved
// concurrency). Rollback rebuilds its clients from the journalled
// injection alone.
package aws

package aws

import (
	"net/http"
	"strings"
)

// protocol is how a service puts requests, answers and errors on the wire.
type protocol int

const (
	protoREST  protocol = iota // REST-JSON: Lambda, FIS, and services not served
	protoEC2                   // EC2's query dialect
	protoQuery                 // AWS query: STS, RDS, Auto Scaling
	protoJSON                  // JSON 1.1 with X-Amz-Target: SSM, ECS
)

// services lists what the endpoint serves: the SigV4 service name, its
// protocol and, for the XML protocols, its namespace and API version; for
// JSON, the protocol version (1.0 or 1.1).
var services = map[string]struct {
	proto   protocol
	ns      string
	version string
}{
	"dynamodb":    {protoJSON, "", "1.0"},
	"sts":         {protoQuery, "https://sts.amazonaws.com/doc/2011-06-15/", "2011-06-15"},
	"ec2":         {protoEC2, ec2NS, "2016-11-15"},
	"rds":         {protoQuery, "http://rds.amazonaws.com/doc/2014-10-31/", "2014-10-31"},
	"autoscaling": {protoQuery, "http://autoscaling.amazonaws.com/doc/2011-01-01/", "2011-01-01"},
	"ssm":         {protoJSON, "", "1.1"},
	"ecs":         {protoJSON, "", "1.1"},
	"lambda":      {protoREST, "", ""},
	"fis":         {protoREST, "", ""},
}

func protocolOf(service string) protocol {
	switch service {
	case "json":
		return protoJSON
	case "query":
		return protoQuery
	}
	return services[service].proto
}

// guessService picks the service, or at least the protocol ("json",
// "query", "rest"), to answer in when the request carries no usable
// credential scope, from what the SDK puts on the wire.
func guessService(r *http.Request, body []byte) string {
	target := r.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(target, "AmazonSSM."):
		return "ssm"
	case strings.HasPrefix(target, "AmazonEC2ContainerService"):
		return "ecs"
	case strings.HasPrefix(target, "DynamoDB_"):
		return "dynamodb"
	case target != "":
		return "json"
	case strings.HasPrefix(r.URL.Path, "/experiment"):
		return "fis"
	case strings.HasPrefix(r.URL.Path, "/20"):
		return "lambda"
	}
	form := string(body) + "&" + r.URL.RawQuery
	for name, svc := range services {
		if svc.proto != protoJSON && svc.version != "" && strings.Contains(form, "Version="+svc.version) {
			return name
		}
	}
	if strings.Contains(form, "Action=") {
		return "query"
	}
	return "rest"
}

// jsonContentType is the content type of a JSON-protocol service's answers.
func jsonContentType(service string) string {
	if v := services[service].version; v != "" {
		return "application/x-amz-json-" + v
	}
	return "application/x-amz-json-1.1"
}

// errorType is the __type a JSON-protocol service gives an error code:
// DynamoDB qualifies it with its namespace, as the real service does.
func errorType(service, code string) string {
	if service == "dynamodb" {
		return "com.amazonaws.dynamodb.v20120810#" + code
	}
	return code
}

func unknownOperation(service string) string {
	switch protocolOf(service) {
	case protoEC2, protoQuery:
		return "InvalidAction"
	}
	return "UnknownOperationException"
}

func missingAuth(service string) string {
	switch protocolOf(service) {
	case protoEC2, protoQuery:
		return "MissingAuthenticationToken"
	}
	return "MissingAuthenticationTokenException"
}

// byProtocol is the error of service's protocol when it has its own in
// errs, else rest's (the REST services and anything unknown).
func byProtocol(service string, errs map[protocol]apiError, rest apiError) *apiError {
	if e, ok := errs[protocolOf(service)]; ok {
		return &e
	}
	return &rest
}

func unknownKey(service string) *apiError {
	const msg = "The security token included in the request is invalid."
	return byProtocol(service, map[protocol]apiError{
		protoEC2:   {status: 401, code: "AuthFailure", msg: "AWS was not able to validate the provided access credentials"},
		protoQuery: {status: 403, code: "InvalidClientTokenId", msg: msg},
		protoJSON:  {status: 400, code: "UnrecognizedClientException", msg: msg},
	}, apiError{status: 403, code: "UnrecognizedClientException", msg: msg})
}

// expiredToken is each protocol's answer to temporary credentials past
// their expiry.
func expiredToken(service string) *apiError {
	const msg = "The security token included in the request is expired"
	return byProtocol(service, map[protocol]apiError{
		protoEC2:   {status: 400, code: "RequestExpired", msg: "Request has expired."},
		protoQuery: {status: 403, code: "ExpiredToken", msg: msg},
	}, apiError{status: 403, code: "ExpiredTokenException", msg: msg})
}

func accessDenied(c *call, op string) *apiError {
	msg := "User: " + c.key.ARN + " is not authorized to perform: " + op
	return byProtocol(c.service, map[protocol]apiError{
		protoEC2:   {status: 403, code: "UnauthorizedOperation", msg: "You are not authorized to perform this operation. " + msg},
		protoQuery: {status: 403, code: "AccessDenied", msg: msg},
		protoJSON:  {status: 400, code: "AccessDeniedException", msg: msg},
	}, apiError{status: 403, code: "AccessDeniedException", msg: msg})
}

func throttleError(service string) *apiError {
	const msg = "Rate exceeded"
	switch service {
	case "ec2":
		return &apiError{status: 503, code: "RequestLimitExceeded", msg: "Request limit exceeded."}
	case "lambda":
		return &apiError{status: 429, code: "TooManyRequestsException", msg: msg}
	case "fis":
		return &apiError{status: 429, code: "ThrottlingException", msg: msg}
	}
	if protocolOf(service) == protoQuery {
		return &apiError{status: 400, code: "Throttling", msg: msg}
	}
	return &apiError{status: 400, code: "ThrottlingException", msg: msg}
}

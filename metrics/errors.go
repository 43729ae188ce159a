package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// ErrorKind sorts query failures by what the user should check.
type ErrorKind int

// Kinds of query failure.
const (
	KindOther       ErrorKind = iota
	KindSyntax                // the PromQL does not parse or is invalid
	KindUnreachable           // no connection: wrong URL, server down, network
	KindAuth                  // 401/403: credentials
	KindTimeout               // no answer in time
	KindServer                // the server answered with a 5xx
	KindBadResponse           // the answer was not the Prometheus API
	KindExec                  // the query parsed but failed to run (e.g. too many samples)
	KindCanceled              // we stopped asking
)

var kindNames = [...]string{"error", "syntax", "unreachable", "auth", "timeout", "server", "bad response", "execution", "canceled"}

func (k ErrorKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// QueryError is a failed panel query explained: which panel, what the
// server said, and what to check.
type QueryError struct {
	Panel string
	Query string
	URL   string
	Kind  ErrorKind
	// Msg is the server's own message where there is one (for a syntax
	// error it is Prometheus's parse error, position included).
	Msg string
	// Hint says what to check.
	Hint string
	Err  error
}

func (e *QueryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "panel %q: ", e.Panel)
	switch e.Kind {
	case KindSyntax:
		b.WriteString("PromQL error: ")
	case KindUnreachable:
		fmt.Fprintf(&b, "cannot reach Prometheus at %s: ", e.URL)
	case KindAuth:
		fmt.Fprintf(&b, "Prometheus at %s refused our credentials: ", e.URL)
	case KindTimeout:
		fmt.Fprintf(&b, "Prometheus at %s did not answer in time: ", e.URL)
	case KindServer:
		fmt.Fprintf(&b, "Prometheus at %s failed: ", e.URL)
	case KindBadResponse:
		fmt.Fprintf(&b, "%s did not answer like the Prometheus API: ", e.URL)
	case KindExec:
		b.WriteString("query failed on the server: ")
	default:
		b.WriteString("query failed: ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

func (e *QueryError) Unwrap() error { return e.Err }

// Explain turns a client error into a QueryError that names the panel and
// says what to check. A nil err stays nil.
func Explain(panel, query, url string, err error) error {
	if err == nil {
		return nil
	}
	var qe *QueryError
	if errors.As(err, &qe) {
		return err
	}
	e := &QueryError{Panel: panel, Query: query, URL: url, Err: err, Msg: err.Error()}
	var apiErr *v1.Error
	var netErr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.Canceled):
		e.Kind, e.Msg = KindCanceled, "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		e.Kind = KindTimeout
		e.Msg = "no answer before the query timeout"
		e.Hint = "the server may be overloaded or the query too heavy: raise metrics.timeout or narrow the query"
	case errors.As(err, &apiErr):
		explainAPI(e, apiErr)
	case errors.As(err, &dnsErr), errors.As(err, &opErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		e.Kind = KindUnreachable
		e.Hint = "check metrics.url (or --prometheus / " + EnvURL + "), that the server is up, and that this machine can reach it"
	}
	return e
}

func explainAPI(e *QueryError, apiErr *v1.Error) {
	e.Msg = apiErr.Msg
	switch apiErr.Type {
	case v1.ErrBadData:
		// Prometheus says bad_data for a query that does not parse and for
		// bad parameters; either way the fix is in the runbook.
		e.Kind = KindSyntax
		e.Hint = "fix the query in the runbook's metrics.panels"
	case v1.ErrTimeout:
		e.Kind = KindTimeout
		e.Hint = "the server gave up on the query: raise metrics.timeout or make the query cheaper"
	case v1.ErrCanceled:
		e.Kind = KindCanceled
	case v1.ErrExec:
		e.Kind = KindExec
		e.Hint = "the query is valid but the server could not run it; narrow it or raise the server's limits"
	case v1.ErrServer:
		// client_golang does not decode 5xx bodies, but Prometheus answers
		// a query timeout with 503 and a JSON error that says so.
		var body struct {
			ErrorType v1.ErrorType `json:"errorType"`
			Error     string       `json:"error"`
		}
		if json.Unmarshal([]byte(apiErr.Detail), &body) == nil && body.ErrorType != "" && body.ErrorType != v1.ErrServer {
			explainAPI(e, &v1.Error{Type: body.ErrorType, Msg: body.Error})
			return
		}
		e.Kind = KindServer
		e.Hint = "the server or a proxy in front of it is failing; check its logs"
		e.Msg = withDetail(apiErr)
	case v1.ErrBadResponse:
		e.Kind = KindBadResponse
		e.Hint = "check metrics.url points at the API root (e.g. http://host:9090, or the /prometheus path for Mimir), not a UI or login page"
	case v1.ErrClient:
		switch {
		case strings.HasSuffix(apiErr.Msg, ": 401"), strings.HasSuffix(apiErr.Msg, ": 403"):
			e.Kind = KindAuth
			e.Hint = "check metrics.auth: the username and password_file, bearer_token_file, headers (X-Scope-OrgID), or the AWS profile and region for sigv4"
		case strings.HasSuffix(apiErr.Msg, ": 404"):
			e.Kind = KindBadResponse
			e.Hint = "no Prometheus API at this URL: check metrics.url and any path prefix"
		default:
			e.Msg = withDetail(apiErr)
		}
	}
}

// withDetail adds the start of the response body, which often names the
// real cause (a proxy's message), without flooding the screen.
func withDetail(apiErr *v1.Error) string {
	d := strings.TrimSpace(apiErr.Detail)
	if d == "" {
		return apiErr.Msg
	}
	if len(d) > 200 {
		d = d[:200] + "…"
	}
	return apiErr.Msg + ": " + d
}

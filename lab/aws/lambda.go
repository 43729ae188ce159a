package aws

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Account-wide concurrency, as Lambda's default quota: reservations must
// leave at least minUnreserved of accountConcurrency unreserved.
const (
	accountConcurrency = 1000
	minUnreserved      = 100
)

// Function is a Lambda function as seeded and as read back.
type Function struct {
	Name        string // required
	Runtime     string // default python3.12
	Handler     string // default index.handler
	Role        string // default arn:aws:iam::ACCOUNT:role/NAME
	Description string
	MemorySize  int // default 128
	Timeout     int // seconds, default 3
	Env         map[string]string
	Tags        map[string]string
	// ReservedConcurrency is nil when the function has no reservation.
	ReservedConcurrency *int
	// Read back only: set by the endpoint on every change.
	RevisionID       string
	LastModified     time.Time
	LastUpdateStatus string
	// FISFaults are the FIS Lambda actions (aws:lambda:invocation-error,
	// ...) an experiment has on the function now.
	FISFaults []string
}

type function struct {
	Function
	gen int
}

// AddFunction seeds a Lambda function.
func (s *Server) AddFunction(f Function) error {
	if f.Name == "" || strings.ContainsAny(f.Name, ":/") {
		return fmt.Errorf("lab/aws: function name %q: expected a plain name without ':' or '/'", f.Name)
	}
	if f.Runtime == "" {
		f.Runtime = "python3.12"
	}
	if f.Handler == "" {
		f.Handler = "index.handler"
	}
	if f.Role == "" {
		f.Role = "arn:aws:iam::" + s.opts.Account + ":role/" + f.Name
	}
	if f.MemorySize == 0 {
		f.MemorySize = 128
	}
	if f.Timeout == 0 {
		f.Timeout = 3
	}
	f.Env = copyTags(f.Env)
	f.Tags = copyTags(f.Tags)
	f.FISFaults = append([]string(nil), f.FISFaults...)
	if f.ReservedConcurrency != nil {
		n := *f.ReservedConcurrency
		f.ReservedConcurrency = &n
	}
	f.RevisionID = newID()
	f.LastModified = s.opts.Now()
	f.LastUpdateStatus = "Successful"
	return seed(s, s.functions, "function", f.Name, &function{Function: f}, nil)
}

// Function returns a copy of a function's current configuration.
func (s *Server) Function(name string) (Function, bool) {
	return readBack(s, s.functions, name, func(f *function) Function { return copyFunction(f.Function) })
}

// EditFunction changes a function outside the API, as another team would
// in the console, and gives it a new revision.
func (s *Server) EditFunction(name string, edit func(*Function)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.functions[name]
	if !ok {
		return fmt.Errorf("lab/aws: function %s does not exist", name)
	}
	edit(&f.Function)
	f.RevisionID = newID()
	f.LastModified = s.opts.Now()
	return nil
}

func copyFunction(f Function) Function {
	f.Env = copyTags(f.Env)
	f.Tags = copyTags(f.Tags)
	if f.ReservedConcurrency != nil {
		n := *f.ReservedConcurrency
		f.ReservedConcurrency = &n
	}
	return f
}

func (s *Server) functionARN(name string) string {
	return s.arn("lambda", "function:"+name)
}

// lambdaPaging: MaxItems 1 to 10000, default 50, and Marker.
var lambdaPaging = paging{50, 1, 10000, "InvalidParameterValueException", "MaxItems %q: expected 1 to 10000", "InvalidParameterValueException", "Marker is not valid"}

func lambdaError(status int, code, msg string) *apiError {
	return &apiError{status: status, code: code, msg: msg}
}

// withFunction runs fn with the function ref and qualifier name, under the
// lock.
func (s *Server) withFunction(ref, qualifier string, fn func(*function) (any, *apiError)) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, aerr := s.findFunction(ref, qualifier)
	if aerr != nil {
		return nil, aerr
	}
	return fn(f)
}

// findFunction resolves a name, partial ARN or ARN, with an optional
// qualifier. Only $LATEST exists here. Callers hold s.mu.
func (s *Server) findFunction(ref, qualifier string) (*function, *apiError) {
	parts := strings.Split(ref, ":")
	name, qual := parts[0], ""
	switch {
	case len(parts) >= 7 && parts[0] == "arn" && parts[5] == "function":
		name = parts[6]
		if len(parts) > 7 {
			qual = parts[7]
		}
	case len(parts) >= 3 && parts[1] == "function":
		name = parts[2]
		if len(parts) > 3 {
			qual = parts[3]
		}
	case len(parts) == 2:
		qual = parts[1]
	}
	if qualifier != "" {
		qual = qualifier
	}
	f, ok := s.functions[name]
	if !ok || (qual != "" && qual != "$LATEST") {
		return nil, lambdaError(404, "ResourceNotFoundException", "Function not found: "+s.functionARN(name)+suffix(qual))
	}
	return f, nil
}

func suffix(qual string) string {
	if qual == "" {
		return ""
	}
	return ":" + qual
}

func (s *Server) serveLambda(w http.ResponseWriter, c *call) {
	s.serveREST(w, c, []restRoute{
		{http.MethodGet, "2015-03-31/functions", "ListFunctions", s.listFunctions},
		{http.MethodGet, "2015-03-31/functions/*", "GetFunction", s.getFunction},
		{http.MethodGet, "2015-03-31/functions/*/configuration", "GetFunctionConfiguration", s.getFunctionConfiguration},
		{http.MethodPut, "2015-03-31/functions/*/configuration", "UpdateFunctionConfiguration", s.updateFunctionConfiguration},
		{http.MethodPut, "2017-10-31/functions/*/concurrency", "PutFunctionConcurrency", s.putConcurrency},
		{http.MethodDelete, "2017-10-31/functions/*/concurrency", "DeleteFunctionConcurrency", s.deleteConcurrency},
		{http.MethodGet, "2019-09-30/functions/*/concurrency", "GetFunctionConcurrency", s.getConcurrency},
		{http.MethodGet, "2017-03-31/tags/*", "ListTags", s.listTags},
	})
}

// configJSON is the FunctionConfiguration shape. Callers hold s.mu.
func (s *Server) configJSON(f *function) map[string]any {
	return map[string]any{
		"FunctionName": f.Name, "FunctionArn": s.functionARN(f.Name), "Runtime": f.Runtime,
		"Role": f.Role, "Handler": f.Handler, "Description": f.Description,
		"MemorySize": f.MemorySize, "Timeout": f.Timeout, "CodeSize": 1024, "CodeSha256": "lab",
		"Version": "$LATEST", "PackageType": "Zip", "Architectures": []string{"x86_64"},
		"LastModified": f.LastModified.UTC().Format("2006-01-02T15:04:05.000-0700"),
		"Environment":  map[string]any{"Variables": f.Env}, "RevisionId": f.RevisionID,
		"State": "Active", "LastUpdateStatus": f.LastUpdateStatus,
	}
}

func (s *Server) getFunctionConfiguration(c *call, ref string) (any, *apiError) {
	return s.withFunction(ref, c.r.URL.Query().Get("Qualifier"), func(f *function) (any, *apiError) {
		return s.configJSON(f), nil
	})
}

func (s *Server) getFunction(c *call, ref string) (any, *apiError) {
	return s.withFunction(ref, c.r.URL.Query().Get("Qualifier"), func(f *function) (any, *apiError) {
		out := map[string]any{
			"Configuration": s.configJSON(f),
			"Code":          map[string]string{"RepositoryType": "S3", "Location": "https://lab.invalid/" + f.Name},
			"Tags":          f.Tags,
		}
		if f.ReservedConcurrency != nil {
			out["Concurrency"] = map[string]int{"ReservedConcurrentExecutions": *f.ReservedConcurrency}
		}
		return out, nil
	})
}

func (s *Server) updateFunctionConfiguration(c *call, ref string) (any, *apiError) {
	var in struct {
		RevisionId  *string
		Description *string
		Handler     *string
		Runtime     *string
		Role        *string
		MemorySize  *int
		Timeout     *int
		Environment *struct{ Variables map[string]string }
	}
	if aerr := decodeJSON(c.body, &in); aerr != nil {
		return nil, aerr
	}
	if in.MemorySize != nil && (*in.MemorySize < 128 || *in.MemorySize > 10240) {
		return nil, lambdaError(400, "InvalidParameterValueException", fmt.Sprintf("MemorySize %d: expected 128 to 10240", *in.MemorySize))
	}
	if in.Timeout != nil && (*in.Timeout < 1 || *in.Timeout > 900) {
		return nil, lambdaError(400, "InvalidParameterValueException", fmt.Sprintf("Timeout %d: expected 1 to 900 seconds", *in.Timeout))
	}
	return s.withFunction(ref, "", func(f *function) (any, *apiError) {
		if in.RevisionId != nil && *in.RevisionId != f.RevisionID {
			return nil, lambdaError(412, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
		}
		if f.LastUpdateStatus == "InProgress" {
			return nil, lambdaError(409, "ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource: "+s.functionARN(f.Name))
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&f.Description, in.Description)
		set(&f.Handler, in.Handler)
		set(&f.Runtime, in.Runtime)
		set(&f.Role, in.Role)
		if in.MemorySize != nil {
			f.MemorySize = *in.MemorySize
		}
		if in.Timeout != nil {
			f.Timeout = *in.Timeout
		}
		if in.Environment != nil {
			f.Env = copyTags(in.Environment.Variables)
		}
		f.RevisionID = newID()
		f.LastModified = s.opts.Now()
		f.gen++
		if d := s.opts.LambdaUpdateDelay; d > 0 {
			f.LastUpdateStatus = "InProgress"
			gen := f.gen
			time.AfterFunc(d, func() {
				s.mu.Lock()
				defer s.mu.Unlock()
				if f.gen == gen {
					f.LastUpdateStatus = "Successful"
				}
			})
		}
		return s.configJSON(f), nil
	})
}

func (s *Server) putConcurrency(c *call, ref string) (any, *apiError) {
	var in struct{ ReservedConcurrentExecutions *int }
	if aerr := decodeJSON(c.body, &in); aerr != nil {
		return nil, aerr
	}
	if in.ReservedConcurrentExecutions == nil || *in.ReservedConcurrentExecutions < 0 {
		return nil, lambdaError(400, "InvalidParameterValueException", "ReservedConcurrentExecutions is required and must be 0 or more")
	}
	n := *in.ReservedConcurrentExecutions
	return s.withFunction(ref, "", func(f *function) (any, *apiError) {
		reserved := n
		for _, other := range s.functions {
			if other != f && other.ReservedConcurrency != nil {
				reserved += *other.ReservedConcurrency
			}
		}
		if accountConcurrency-reserved < minUnreserved {
			return nil, lambdaError(400, "InvalidParameterValueException", fmt.Sprintf("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", minUnreserved))
		}
		f.ReservedConcurrency = &n
		return map[string]int{"ReservedConcurrentExecutions": n}, nil
	})
}

func (s *Server) getConcurrency(_ *call, ref string) (any, *apiError) {
	return s.withFunction(ref, "", func(f *function) (any, *apiError) {
		if f.ReservedConcurrency == nil {
			return map[string]any{}, nil
		}
		return map[string]int{"ReservedConcurrentExecutions": *f.ReservedConcurrency}, nil
	})
}

func (s *Server) deleteConcurrency(_ *call, ref string) (any, *apiError) {
	return s.withFunction(ref, "", func(f *function) (any, *apiError) {
		f.ReservedConcurrency = nil
		return nil, nil
	})
}

func (s *Server) listFunctions(c *call, _ string) (any, *apiError) {
	q := c.r.URL.Query()
	size, offset, aerr := lambdaPaging.read(q.Get("MaxItems"), q.Get("Marker"))
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.functions))
	for name := range s.functions {
		names = append(names, name)
	}
	sort.Strings(names)
	return pageOf(names, offset, size, "Functions", "NextMarker", func(name string) map[string]any { return s.configJSON(s.functions[name]) }), nil
}

func (s *Server) listTags(_ *call, arn string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.HasPrefix(arn, "arn:") {
		return nil, lambdaError(400, "ValidationException", fmt.Sprintf("Resource %q: expected a function ARN", arn))
	}
	f, aerr := s.findFunction(arn, "")
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"Tags": f.Tags}, nil
}

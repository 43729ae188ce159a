// Package aws is a loopback endpoint that speaks the AWS wire protocols for
// the calls gameday makes (STS, EC2, SSM, FIS, Lambda), with in-memory state.
//
// It exists so the real aws-sdk-go-v2 clients can be exercised end to end
// (SigV4 signing, endpoint resolution, serialisation, pagination, error codes,
// retries) where no AWS account is reachable. It is the one stand-in the
// project allows: everything else talks to real components. Point a client at
// it with config.LoadDefaultConfig, static credentials from Options.Keys and
// the client's BaseEndpoint set to URL().
//
// Hooks tie the state to something real: the lab stops a host when its
// instance stops, and runs SSM commands on the host.
package aws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// DefaultAccount is the account a key reports when neither Key.Account nor
// Options.Account says otherwise.
const DefaultAccount = "123456789012"

// maxBody bounds a request body; the calls served here are small.
const maxBody = 8 << 20

// Key is one set of credentials the endpoint accepts.
type Key struct {
	AccessKeyID     string
	SecretAccessKey string
	// Account is what GetCallerIdentity reports for this key (default
	// Options.Account), so a test can hold a key of the wrong account.
	Account string
	// ARN is the caller identity (default arn:aws:iam::ACCOUNT:user/gameday).
	ARN string
	// Deny lists actions this key may not call, as "service:Action" with
	// "service:*" and "*" allowed: EC2 answers UnauthorizedOperation (also
	// for DryRun), the JSON services AccessDeniedException.
	Deny []string
	// SessionToken, when set, makes this a temporary key: a request must
	// carry the same X-Amz-Security-Token, as with STS session credentials.
	SessionToken string
	// Expires, when set, is when the key stops working: later requests
	// fail with the service's expired-token error, so a test can hold
	// credentials that lapse mid-run.
	Expires time.Time
}

// Hooks connect instance state and Run Command to the lab. Both are optional
// and are called outside the server's lock.
type Hooks struct {
	// InstanceState is called, in order per server, after an instance enters
	// a new state: pending, running, stopping, stopped, shutting-down,
	// terminated, and "rebooting" (followed by "running") for a reboot.
	InstanceState func(id, state string)
	// RunShell runs an AWS-RunShellScript invocation on one instance. ctx ends
	// at the execution timeout, on CancelCommand and on Close, and RunShell
	// must return soon after: Close waits for it. Without it every
	// invocation fails as undeliverable, as for an instance with no agent.
	RunShell func(ctx context.Context, instanceID string, commands []string) (stdout, stderr string, exitCode int)
	// Experiment is called, in order, after a FIS experiment enters a new
	// status, so the lab can apply or lift what the template stands for.
	Experiment func(id, templateID, status string)
	// Change is called, in order, when an ECS task or an RDS cluster or
	// instance changes status: ("ecs", task ARN, lastStatus), ("rds",
	// identifier, status).
	Change func(service, id, state string)
}

// Options configure a Server.
type Options struct {
	// Addr to listen on; it must be a loopback address. Default 127.0.0.1:0.
	Addr string
	// Keys accepted. At least one is required.
	Keys []Key
	// Account for keys that name none. Default DefaultAccount.
	Account string
	// Region used in ARNs and default availability zones. Default us-east-1.
	// Requests signed for any region are accepted.
	Region string
	// TransitionDelay is how long every intermediate state lasts: an
	// instance stopping, pending, shutting-down or rebooting, a FIS
	// experiment initiating or stopping, an ECS task deactivating or
	// pending, an RDS cluster failing over or instance rebooting, a DynamoDB
	// table updating. Default 100ms.
	TransitionDelay time.Duration
	// LambdaUpdateDelay, when set, keeps a function's LastUpdateStatus
	// InProgress this long after UpdateFunctionConfiguration; a second
	// update meanwhile fails with ResourceConflictException, as on Lambda.
	// Zero makes updates take effect at once.
	LambdaUpdateDelay time.Duration
	// Hooks tie state changes and commands to the lab.
	Hooks Hooks
	// Scale adds API latency and throttling at a rate (see Scale).
	Scale Scale
	// Now is the clock for timestamps and the SigV4 skew check. Default time.Now.
	Now func() time.Time
}

// Server is the endpoint. Its methods are safe for concurrent use.
type Server struct {
	opts   Options
	keys   map[string]Key
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	hooks  *hookQueue
	// signer is shared so its cache of derived signing keys is too.
	signer *v4.Signer
	// routes serve each service, by its SigV4 name.
	routes map[string]func(http.ResponseWriter, *call)
	reqSeq atomic.Uint64
	reqPfx string

	ln   net.Listener
	http *http.Server

	mu          sync.Mutex
	idle        *sync.Cond // signalled when inflight drops to 0
	inflight    int        // requests being served
	closed      bool
	throttle    map[string]int
	scale       *scaler
	calls       map[string]int
	instances   map[string]*instance
	order       []string // instance ids, sorted, for stable pagination
	commands    map[string]*command
	cmdOrder    []string
	groups      map[string]*securityGroup
	grpOrder    []string // group ids, sorted
	functions   map[string]*function
	dbClusters  map[string]*dbCluster
	dbInstances map[string]*dbInstance
	asGroups    map[string]*asGroup
	tables      map[string]*table
	tasks       map[string]*task // by ARN
	taskOrder   []string
	templates   map[string]*template
	tmplOrder   []string
	exps        map[string]*experiment
	expOrder    []string
	alarms      map[string]bool // CloudWatch alarm ARN: in ALARM
}

// New builds a server; Start makes it listen.
func New(opts Options) *Server {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Account == "" {
		opts.Account = DefaultAccount
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.TransitionDelay <= 0 {
		opts.TransitionDelay = 100 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	keys := make(map[string]Key, len(opts.Keys))
	for _, k := range opts.Keys {
		if k.Account == "" {
			k.Account = opts.Account
		}
		if k.ARN == "" {
			k.ARN = "arn:aws:iam::" + k.Account + ":user/gameday"
		}
		keys[k.AccessKeyID] = k
	}
	var pfx [4]byte
	_, _ = rand.Read(pfx[:])
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:        opts,
		keys:        keys,
		ctx:         ctx,
		cancel:      cancel,
		reqPfx:      hex.EncodeToString(pfx[:]),
		signer:      v4.NewSigner(),
		throttle:    map[string]int{},
		scale:       newScaler(opts.Scale),
		calls:       map[string]int{},
		instances:   map[string]*instance{},
		commands:    map[string]*command{},
		groups:      map[string]*securityGroup{},
		functions:   map[string]*function{},
		dbClusters:  map[string]*dbCluster{},
		dbInstances: map[string]*dbInstance{},
		asGroups:    map[string]*asGroup{},
		tables:      map[string]*table{},
		tasks:       map[string]*task{},
		templates:   map[string]*template{},
		exps:        map[string]*experiment{},
	}
	s.idle = sync.NewCond(&s.mu)
	s.hooks = newHookQueue()
	s.routes = map[string]func(http.ResponseWriter, *call){
		"sts":         s.queryService(s.stsAPI()),
		"ec2":         s.queryService(s.ec2API()),
		"rds":         s.queryService(s.rdsAPI()),
		"autoscaling": s.queryService(s.autoscalingAPI()),
		"ssm":         s.serveSSM,
		"ecs":         s.serveECS,
		"dynamodb":    s.serveDynamoDB,
		"fis":         s.serveFIS,
		"lambda":      s.serveLambda,
	}
	return s
}

// Start listens on Options.Addr and serves in the background.
func (s *Server) Start() error {
	if len(s.opts.Keys) == 0 {
		return errors.New("lab/aws: no credentials: Options.Keys is empty")
	}
	seen := map[string]bool{}
	for i, k := range s.opts.Keys {
		switch {
		case k.AccessKeyID == "" || k.SecretAccessKey == "":
			return fmt.Errorf("lab/aws: Options.Keys[%d]: expected both AccessKeyID and SecretAccessKey", i)
		case seen[k.AccessKeyID]:
			return fmt.Errorf("lab/aws: Options.Keys[%d]: access key %s is listed twice", i, k.AccessKeyID)
		}
		seen[k.AccessKeyID] = true
	}
	host, _, err := net.SplitHostPort(s.opts.Addr)
	if err != nil {
		return fmt.Errorf("lab/aws: listen address %q: %w", s.opts.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("lab/aws: listen address %q: expected a loopback address (127.0.0.0/8, ::1, localhost)", s.opts.Addr)
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("lab/aws: listen on %s: %w", s.opts.Addr, err)
	}
	s.ln = ln
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Go(func() {
		_ = s.http.Serve(ln)
	})
	return nil
}

// URL is the base endpoint for every service, for a client's BaseEndpoint.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Close stops serving, waits for requests under way, cancels running
// commands and waits for them and for pending hooks. State changes still
// scheduled are dropped.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	var err error
	if s.http != nil {
		err = s.http.Close()
	}
	// Requests under way finish (they never wait on the network once their
	// body is read), so none touches the state after Close returns.
	s.mu.Lock()
	for s.inflight > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.hooks.close()
	return err
}

// Throttle makes the next n calls of op fail with the service's throttling
// error (EC2 RequestLimitExceeded, STS Throttling, SSM and FIS
// ThrottlingException, Lambda TooManyRequestsException). op is
// "service:Action", e.g. "ec2:DescribeInstances".
func (s *Server) Throttle(op string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle[op] = n
}

// Calls reports how many signed requests reached op ("service:Action"),
// throttled ones included, so a test can see the SDK retry.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// call is one authenticated request on its way to an operation.
type call struct {
	service string
	region  string
	key     Key
	reqID   string
	r       *http.Request
	body    []byte
}

func (s *Server) requestID() string {
	n := s.reqSeq.Add(1)
	return fmt.Sprintf("%s-0000-4000-8000-%012x", s.reqPfx, n)
}

// ServeHTTP authenticates the request, routes it by the service in its
// SigV4 credential scope, and answers in that service's protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{r: r, reqID: s.requestID()}
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.inflight++
	}
	s.mu.Unlock()
	if closed {
		c.service = guessService(r, nil)
		s.fail(w, c, &apiError{status: 503, code: "ServiceUnavailable", msg: "the endpoint is shutting down", server: true})
		return
	}
	defer func() {
		s.mu.Lock()
		if s.inflight--; s.inflight == 0 {
			s.idle.Broadcast()
		}
		s.mu.Unlock()
	}()
	defer func() {
		// A malformed request must never take the endpoint down.
		if p := recover(); p != nil {
			s.fail(w, c, &apiError{status: 500, code: "InternalFailure", msg: fmt.Sprint("internal error: ", p), server: true})
		}
	}()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		c.service = guessService(r, nil)
		s.fail(w, c, &apiError{status: 400, code: "InvalidRequest", msg: "request body unreadable or larger than 8 MiB"})
		return
	}
	c.body = body
	if aerr := s.authenticate(c); aerr != nil {
		if c.service == "" {
			c.service = guessService(r, body)
		}
		s.fail(w, c, aerr)
		return
	}
	serve, ok := s.routes[c.service]
	if !ok {
		name := c.service
		c.service = guessService(r, body)
		s.fail(w, c, &apiError{status: 404, code: unknownOperation(c.service), msg: fmt.Sprintf("service %q is not served by this endpoint (sts, ec2, ssm, ecs, rds, autoscaling, dynamodb, fis, lambda are)", name)})
		return
	}
	serve(w, c)
}

// admit counts the call, applies the key's deny list and injected throttling.
func (s *Server) admit(c *call, action string) *apiError {
	op := c.service + ":" + action
	size, batched := batchSize(op, c.body)
	s.mu.Lock()
	s.calls[op]++
	forced := s.throttle[op] > 0
	if forced {
		s.throttle[op]--
	}
	throttled := s.scale.throttles(op, forced)
	if batched && !throttled {
		s.scale.batches[op] = append(s.scale.batches[op], size)
	}
	latency := s.scale.latency
	s.mu.Unlock()
	wait(c.r.Context(), latency)
	if denied(c.key.Deny, op) {
		return accessDenied(c, op)
	}
	if throttled {
		return throttleError(c.service)
	}
	return nil
}

func denied(deny []string, op string) bool {
	svc, _, _ := strings.Cut(op, ":")
	for _, d := range deny {
		if d == "*" || strings.EqualFold(d, op) || strings.EqualFold(d, svc+":*") {
			return true
		}
	}
	return false
}

// changeHook reports an ECS or RDS state change to the lab. Callers hold s.mu.
func (s *Server) changeHook(service, id, state string) {
	if fn := s.opts.Hooks.Change; fn != nil {
		s.hooks.push(func() { fn(service, id, state) })
	}
}

// seed stores a resource a test or the lab adds, under id unless id is
// taken; what names the kind of resource in that error. then, if not nil,
// runs under the same lock once the resource is stored, to keep a listing
// order or tie it to others.
func seed[V any](s *Server, m map[string]V, what, id string, v V, then func()) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := m[id]; ok {
		return fmt.Errorf("lab/aws: %s %s already exists", what, id)
	}
	m[id] = v
	if then != nil {
		then()
	}
	return nil
}

// unlessChanged runs fn under the lock after d, unless the server has
// closed or the resource has changed again meanwhile: its generation, at
// gen, is no longer what it is now.
func (s *Server) unlessChanged(d time.Duration, gen *int, fn func()) {
	want := *gen
	time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || *gen != want {
			return
		}
		fn()
	})
}

// readBack copies the resource stored under key, under the lock, for the
// read accessors tests and the lab use.
func readBack[K comparable, V, T any](s *Server, m map[K]V, key K, cp func(V) T) (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := m[key]
	if !ok {
		var zero T
		return zero, false
	}
	return cp(v), true
}

// arn names a resource of the lab, which lives in one account and one
// region (Options.Account, Options.Region) whatever region a request is
// signed for.
func (s *Server) arn(service, resource string) string {
	return "arn:aws:" + service + ":" + s.opts.Region + ":" + s.opts.Account + ":" + resource
}

func sortedInsert(ids []string, id string) []string {
	i := sort.SearchStrings(ids, id)
	ids = append(ids, "")
	copy(ids[i+1:], ids[i:])
	ids[i] = id
	return ids
}

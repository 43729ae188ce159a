package metrics

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/gameday/gameday/runbook"
)

// EnvURL is the environment variable that overrides the runbook's metrics URL.
const EnvURL = "GAMEDAY_PROMETHEUS_URL"

// DefaultTimeout bounds one query when neither the runbook nor the caller says.
const DefaultTimeout = 10 * time.Second

// Options are what the command line and environment add to a runbook's
// metrics section. The zero value means "the runbook as written".
type Options struct {
	// URL is the --prometheus flag; it wins over the environment and runbook.
	URL string
	// Getenv reads the environment; nil means os.Getenv. Tests pass a map.
	Getenv func(string) string
	// Timeout overrides the runbook's per-query timeout when positive.
	Timeout time.Duration
	// Transport is the base HTTP transport; nil means a clone of
	// http.DefaultTransport. TLS settings from the runbook are applied to it
	// only when it is an *http.Transport.
	Transport http.RoundTripper
	// AWSCredentials replaces the default AWS credential chain for SigV4,
	// so a caller (or a test) can hand in credentials it already holds.
	AWSCredentials aws.CredentialsProvider
}

// Client is a configured connection to a Prometheus-compatible server.
type Client struct {
	// API is the client_golang v1 API; it satisfies Querier.
	API v1.API
	// URL is the server's base URL after resolution.
	URL string
	// URLFrom says where URL came from: "flag", "env" or "runbook", so a
	// wrong address can be traced to the place that set it.
	URLFrom string
	// Timeout bounds each query.
	Timeout time.Duration

	counter *countingTransport
}

// BytesRead is the number of response-body bytes received so far; the
// benchmark uses it to show polls stay the same size as a game day goes on.
func (c *Client) BytesRead() int64 { return c.counter.bytes.Load() }

// Requests is the number of HTTP requests sent so far.
func (c *Client) Requests() int64 { return c.counter.requests.Load() }

// ResolveURL picks the server URL: flag, then environment, then runbook.
// It returns the URL and which of the three it came from.
func ResolveURL(flag string, getenv func(string) string, m runbook.Metrics) (string, string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	raw, from := flag, "flag"
	if raw == "" {
		raw, from = getenv(EnvURL), "env"
	}
	if raw == "" {
		raw, from = m.URL, "runbook"
	}
	if raw == "" {
		return "", "", fmt.Errorf("no Prometheus URL: set metrics.url in the runbook, %s, or --prometheus", EnvURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("Prometheus URL %q (from %s): %w", raw, from, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", "", fmt.Errorf("Prometheus URL %q (from %s): scheme must be http or https", raw, from)
	}
	if u.Host == "" {
		return "", "", fmt.Errorf("Prometheus URL %q (from %s): no host", raw, from)
	}
	return raw, from, nil
}

// NewClient builds a client for the runbook's metrics section with the
// overrides in o. Credentials named by file are read now, so a wrong path
// fails before the game day starts rather than at the first poll.
func NewClient(ctx context.Context, m runbook.Metrics, o Options) (*Client, error) {
	addr, from, err := ResolveURL(o.URL, o.Getenv, m)
	if err != nil {
		return nil, err
	}
	timeout := m.Timeout
	if o.Timeout > 0 {
		timeout = o.Timeout
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	rt, err := transport(ctx, m.Auth, o)
	if err != nil {
		return nil, fmt.Errorf("configure access to %s: %w", addr, err)
	}
	counter := &countingTransport{next: rt}
	// The HTTP client's own timeout is a backstop a little past the query
	// timeout, for servers that accept the connection and then stall.
	hc := &http.Client{Transport: counter, Timeout: timeout + 5*time.Second}
	c, err := api.NewClient(api.Config{Address: addr, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("create Prometheus client for %s: %w", addr, err)
	}
	return &Client{API: v1.NewAPI(c), URL: addr, URLFrom: from, Timeout: timeout, counter: counter}, nil
}

// transport layers auth on top of the base transport. Order matters: SigV4
// must sign last, after every other header is set.
func transport(ctx context.Context, a runbook.Auth, o Options) (http.RoundTripper, error) {
	base := o.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	if t, ok := base.(*http.Transport); ok {
		tc, err := tlsConfig(a)
		if err != nil {
			return nil, err
		}
		if tc != nil {
			t = t.Clone()
			t.TLSClientConfig = tc
			base = t
		}
	}
	rt := base
	if a.SigV4Region != "" {
		if a.Username != "" || a.BearerTokenFile != "" {
			return nil, errors.New("auth: sigv4 cannot be combined with basic or bearer auth, both use the Authorization header")
		}
		s, err := newSigV4(ctx, a, o.AWSCredentials, rt)
		if err != nil {
			return nil, err
		}
		rt = s
	}
	if a.Username != "" && a.BearerTokenFile != "" {
		return nil, errors.New("auth: choose basic (username) or bearer (bearer_token_file), not both")
	}
	if a.Username != "" {
		pw, err := newSecretFile(a.PasswordFile, "password_file")
		if err != nil {
			return nil, err
		}
		rt = &basicAuth{user: a.Username, password: pw, next: rt}
	}
	if a.BearerTokenFile != "" {
		tok, err := newSecretFile(a.BearerTokenFile, "bearer_token_file")
		if err != nil {
			return nil, err
		}
		rt = &bearerAuth{token: tok, next: rt}
	}
	if len(a.Headers) > 0 {
		h := http.Header{}
		for k, v := range a.Headers {
			if strings.EqualFold(k, "Authorization") && (a.Username != "" || a.BearerTokenFile != "" || a.SigV4Region != "") {
				return nil, fmt.Errorf("auth: header %q conflicts with the configured auth", k)
			}
			h.Set(k, v)
		}
		// Headers go on first so SigV4, innermost, signs them too.
		rt = &headerAuth{headers: h, next: rt}
	}
	return rt, nil
}

// tlsConfig returns nil when the runbook asks for nothing, so the platform
// defaults stay in force.
func tlsConfig(a runbook.Auth) (*tls.Config, error) {
	if a.CAFile == "" && a.CertFile == "" && a.KeyFile == "" && !a.InsecureSkipTLS {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if a.CAFile != "" {
		pem, err := os.ReadFile(a.CAFile)
		if err != nil {
			return nil, fmt.Errorf("auth: read ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("auth: ca_file %s holds no PEM certificate", a.CAFile)
		}
		tc.RootCAs = pool
	}
	if (a.CertFile == "") != (a.KeyFile == "") {
		return nil, errors.New("auth: cert_file and key_file go together")
	}
	if a.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(a.CertFile, a.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("auth: load client certificate %s: %w", a.CertFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	// Only ever on explicit request: it turns off the check that we are
	// talking to the server we think we are.
	tc.InsecureSkipVerify = a.InsecureSkipTLS
	return tc, nil
}

// secretFile re-reads its file when it changes, because tokens such as
// Kubernetes service-account tokens rotate during a long game day. A read
// failure keeps the last good value rather than dropping auth mid-run.
type secretFile struct {
	path string
	what string

	mu    sync.Mutex
	value string
	mod   time.Time
}

func newSecretFile(path, what string) (*secretFile, error) {
	if path == "" {
		return &secretFile{what: what}, nil
	}
	s := &secretFile{path: path, what: what}
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *secretFile) reload() error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("auth: read %s: %w", s.what, err)
	}
	if !fi.ModTime().After(s.mod) && s.value != "" {
		return nil
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("auth: read %s: %w", s.what, err)
	}
	s.value = strings.TrimSpace(string(b))
	s.mod = fi.ModTime()
	return nil
}

func (s *secretFile) get() string {
	if s.path == "" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.reload() // keep the last good value; the first read was checked
	return s.value
}

type basicAuth struct {
	user     string
	password *secretFile
	next     http.RoundTripper
}

func (b *basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(b.user, b.password.get())
	return b.next.RoundTrip(r)
}

type bearerAuth struct {
	token *secretFile
	next  http.RoundTripper
}

func (b *bearerAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token.get())
	return b.next.RoundTrip(r)
}

type headerAuth struct {
	headers http.Header
	next    http.RoundTripper
}

func (h *headerAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h.headers {
		r.Header[k] = v
	}
	return h.next.RoundTrip(r)
}

// sigV4 signs each request for Amazon Managed Prometheus ("aps").
type sigV4 struct {
	region string
	creds  aws.CredentialsProvider
	signer *v4.Signer
	next   http.RoundTripper
	now    func() time.Time
}

func newSigV4(ctx context.Context, a runbook.Auth, creds aws.CredentialsProvider, next http.RoundTripper) (*sigV4, error) {
	if creds == nil {
		opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(a.SigV4Region)}
		if a.SigV4Profile != "" {
			opts = append(opts, awsconfig.WithSharedConfigProfile(a.SigV4Profile))
		}
		cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("auth: load AWS config for sigv4 (profile %q): %w", a.SigV4Profile, err)
		}
		creds = cfg.Credentials
	}
	if creds == nil {
		return nil, errors.New("auth: sigv4: no AWS credentials found")
	}
	return &sigV4{region: a.SigV4Region, creds: creds, signer: v4.NewSigner(), next: next, now: time.Now}, nil
}

func (s *sigV4) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("sigv4: read request body: %w", err)
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	sum := sha256.Sum256(body)
	creds, err := s.creds.Retrieve(r.Context())
	if err != nil {
		return nil, fmt.Errorf("sigv4: retrieve AWS credentials: %w", err)
	}
	// client_golang marks requests idempotent with a nil header value; the
	// signer would sign it as an empty header the server never receives.
	r.Header.Del("Idempotency-Key")
	if err := s.signer.SignHTTP(r.Context(), creds, r, hex.EncodeToString(sum[:]), "aps", s.region, s.now()); err != nil {
		return nil, fmt.Errorf("sigv4: sign request: %w", err)
	}
	return s.next.RoundTrip(r)
}

// countingTransport counts what the server sends us so the cost of
// polling can be measured rather than guessed.
type countingTransport struct {
	next     http.RoundTripper
	requests atomic.Int64
	bytes    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	resp, err := c.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.bytes}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

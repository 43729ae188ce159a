package metrics

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gameday/gameday/runbook"
)

func noEnv(string) string { return "" }

func TestResolveURL(t *testing.T) {
	rb := runbook.Metrics{URL: "http://runbook:9090"}
	env := func(k string) string {
		if k == EnvURL {
			return "http://env:9090"
		}
		return ""
	}
	cases := []struct {
		flag     string
		getenv   func(string) string
		m        runbook.Metrics
		want     string
		wantFrom string
		wantErr  string
	}{
		{"http://flag:9090", env, rb, "http://flag:9090", "flag", ""},
		{"", env, rb, "http://env:9090", "env", ""},
		{"", noEnv, rb, "http://runbook:9090", "runbook", ""},
		{"", noEnv, runbook.Metrics{}, "", "", "no Prometheus URL"},
		{"prometheus:9090", noEnv, rb, "", "", "scheme must be http or https"},
		{"http://", noEnv, rb, "", "", "no host"},
	}
	for _, c := range cases {
		got, from, err := ResolveURL(c.flag, c.getenv, c.m)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ResolveURL(%q): err %v, want %q", c.flag, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want || from != c.wantFrom {
			t.Errorf("ResolveURL(%q) = %q, %q, %v; want %q, %q", c.flag, got, from, err, c.want, c.wantFrom)
		}
	}
}

// queryOnce builds a client for url and runs one panel query through the
// poller, returning the explained error.
func queryOnce(t *testing.T, url string, timeout time.Duration) error {
	t.Helper()
	c, err := NewClient(context.Background(), runbook.Metrics{URL: url, Timeout: timeout}, Options{Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	p := NewPoller(c.API, Config{Panels: []runbook.Panel{{Name: "p95", Query: "up"}}, Step: time.Second, Timeout: timeout, URL: c.URL})
	return p.Poll(context.Background())
}

func TestFailuresAreExplained(t *testing.T) {
	status := func(code int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_, _ = io.WriteString(w, body)
		}
	}
	cases := []struct {
		name     string
		h        http.HandlerFunc
		kind     ErrorKind
		contains []string
	}{
		{"500", status(500, "upstream exploded"), KindServer, []string{"server error: 500", "upstream exploded", "check its logs"}},
		{"502 from a proxy", status(502, "<html>Bad Gateway</html>"), KindServer, []string{"502"}},
		{"401", status(401, "no"), KindAuth, []string{"refused our credentials", "metrics.auth"}},
		{"403", status(403, "forbidden"), KindAuth, []string{"metrics.auth"}},
		{"404", status(404, "not found"), KindBadResponse, []string{"check metrics.url"}},
		{"malformed JSON", status(200, `{"status":"success","data":{"resultType":"matrix","result":[{`), KindBadResponse, []string{"did not answer like the Prometheus API", "metrics.url"}},
		{"HTML login page", status(200, `<html><body>Sign in</body></html>`), KindBadResponse, []string{"not a UI or login page"}},
		{"syntax error", status(400, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:14: parse error: unclosed left parenthesis"}`),
			KindSyntax, []string{`panel "p95"`, "PromQL error", "1:14: parse error: unclosed left parenthesis"}},
		{"server-side timeout", status(503, `{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}`),
			KindTimeout, []string{"raise metrics.timeout"}},
		{"slow beyond the timeout", func(w http.ResponseWriter, r *http.Request) {
			// Read the body so the server notices the client hanging up.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, KindTimeout, []string{"did not answer in time", "raise metrics.timeout"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newFakeServer(t, c.h)
			start := time.Now()
			err := queryOnce(t, srv.URL, 300*time.Millisecond)
			if took := time.Since(start); took > 4*time.Second {
				t.Errorf("query took %s; the timeout did not bound it", took)
			}
			var qe *QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("err = %v (%T), want a *QueryError", err, err)
			}
			if qe.Kind != c.kind {
				t.Errorf("kind = %v, want %v: %v", qe.Kind, c.kind, qe)
			}
			for _, s := range c.contains {
				if !strings.Contains(qe.Error(), s) {
					t.Errorf("error %q does not mention %q", qe.Error(), s)
				}
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		url := "http://" + l.Addr().String()
		l.Close()
		err = queryOnce(t, url, time.Second)
		var qe *QueryError
		if !errors.As(err, &qe) || qe.Kind != KindUnreachable || !strings.Contains(qe.Error(), "cannot reach Prometheus at "+url) || !strings.Contains(qe.Hint, "metrics.url") {
			t.Errorf("err = %v, want unreachable naming %s and what to check", err, url)
		}
	})
}

func TestServerGoesAwayMetricsBlind(t *testing.T) {
	fp := &fakeProm{series: 1, value: func(int, time.Time) float64 { return 0.2 }}
	srv := httptest.NewServer(fp.handler(t))
	defer srv.Close()
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	c, err := NewClient(context.Background(), runbook.Metrics{URL: srv.URL}, Options{Getenv: noEnv, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p := NewPoller(c.API, Config{Panels: []runbook.Panel{{Name: "p95", Query: "q"}}, Step: time.Second, Timeout: time.Second, URL: c.URL, Now: clk.Now})
	limit := 10 * time.Second
	for range 5 {
		clk.Add(time.Second)
		if err := p.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if b := Blind(p.Health(), limit, clk.Now()); b.Fired {
			t.Fatalf("blind while the server answers: %+v", b)
		}
	}
	srv.Close() // the server goes away mid-run
	var blind BlindResult
	for i := range 15 {
		clk.Add(time.Second)
		err := p.Poll(context.Background())
		var qe *QueryError
		if !errors.As(err, &qe) || qe.Kind != KindUnreachable {
			t.Fatalf("poll after close: %v, want unreachable", err)
		}
		blind = Blind(p.Health(), limit, clk.Now())
		if blind.Fired != (i+1 >= 10) {
			t.Fatalf("%ds after the server went away: blind fired = %v, want %v (%s)", i+1, blind.Fired, i+1 >= 10, blind.Reason)
		}
	}
	if !strings.Contains(blind.Reason, "has not answered") || !strings.Contains(blind.Reason, "cannot reach") {
		t.Errorf("reason %q should say the server has not answered and why", blind.Reason)
	}
	if blind.Panel != "p95" || blind.For < limit {
		t.Errorf("blind = %+v", blind)
	}
}

// recordingServer remembers the last request's headers and body.
type recordingServer struct {
	mu   sync.Mutex
	hdr  http.Header
	body []byte
	req  *http.Request
}

func (rs *recordingServer) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rs.mu.Lock()
		rs.hdr, rs.body, rs.req = r.Header.Clone(), b, r.Clone(context.Background())
		rs.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		next.ServeHTTP(w, r)
	})
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAuth(t *testing.T) {
	fp := &fakeProm{series: 1, value: func(int, time.Time) float64 { return 1 }}
	rs := &recordingServer{}
	srv := newFakeServer(t, rs.handler(fp.handler(t)))
	ctx := context.Background()
	query := func(t *testing.T, a runbook.Auth, o Options) http.Header {
		t.Helper()
		o.Getenv = noEnv
		c, err := NewClient(ctx, runbook.Metrics{URL: srv.URL, Auth: a}, o)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := c.API.Query(ctx, "up", time.Now()); err != nil {
			t.Fatal(err)
		}
		rs.mu.Lock()
		defer rs.mu.Unlock()
		return rs.hdr
	}

	t.Run("basic with password file", func(t *testing.T) {
		h := query(t, runbook.Auth{Username: "gameday", PasswordFile: writeFile(t, "pw", "s3cret\n")}, Options{})
		r := &http.Request{Header: h}
		u, p, ok := r.BasicAuth()
		if !ok || u != "gameday" || p != "s3cret" {
			t.Errorf("basic auth = %q %q %v", u, p, ok)
		}
	})
	t.Run("bearer token file, re-read when it rotates", func(t *testing.T) {
		path := writeFile(t, "token", "tok-1\n")
		c, err := NewClient(ctx, runbook.Metrics{URL: srv.URL, Auth: runbook.Auth{BearerTokenFile: path}}, Options{Getenv: noEnv})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"tok-1", "tok-2"} {
			if want == "tok-2" {
				if err := os.WriteFile(path, []byte("tok-2"), 0o600); err != nil {
					t.Fatal(err)
				}
				future := time.Now().Add(time.Minute)
				if err := os.Chtimes(path, future, future); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, _, err := c.API.Query(ctx, "up", time.Now()); err != nil {
				t.Fatal(err)
			}
			rs.mu.Lock()
			got := rs.hdr.Get("Authorization")
			rs.mu.Unlock()
			if got != "Bearer "+want {
				t.Errorf("Authorization = %q, want Bearer %s", got, want)
			}
		}
	})
	t.Run("missing secret file fails up front", func(t *testing.T) {
		_, err := NewClient(ctx, runbook.Metrics{URL: srv.URL, Auth: runbook.Auth{BearerTokenFile: "/nonexistent/token"}}, Options{Getenv: noEnv})
		if err == nil || !strings.Contains(err.Error(), "bearer_token_file") {
			t.Errorf("err = %v, want it to name bearer_token_file", err)
		}
	})
	t.Run("custom headers", func(t *testing.T) {
		h := query(t, runbook.Auth{Headers: map[string]string{"X-Scope-OrgID": "tenant-1"}}, Options{})
		if h.Get("X-Scope-OrgID") != "tenant-1" {
			t.Errorf("X-Scope-OrgID = %q", h.Get("X-Scope-OrgID"))
		}
	})
	t.Run("sigv4", func(t *testing.T) {
		creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")
		h := query(t, runbook.Auth{SigV4Region: "eu-west-1", Headers: map[string]string{"X-Scope-OrgID": "t"}}, Options{AWSCredentials: creds})
		auth := h.Get("Authorization")
		if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-1/aps/aws4_request") {
			t.Fatalf("Authorization = %q, want a SigV4 signature for aps in eu-west-1", auth)
		}
		if !strings.Contains(auth, "x-scope-orgid") {
			t.Errorf("custom header not signed: %q", auth)
		}
		// Re-sign what the server received; the signatures must agree, which
		// proves the body hash and signed headers match what was sent.
		rs.mu.Lock()
		req, body := rs.req, rs.body
		rs.mu.Unlock()
		when, err := time.Parse("20060102T150405Z", h.Get("X-Amz-Date"))
		if err != nil {
			t.Fatal(err)
		}
		check := req.Clone(ctx)
		check.URL.Scheme, check.URL.Host = "http", req.Host
		check.Header = http.Header{}
		for _, k := range []string{"Content-Type", "X-Scope-Orgid"} {
			if v := req.Header.Get(k); v != "" {
				check.Header.Set(k, v)
			}
		}
		sum := sha256.Sum256(body)
		c, _ := creds.Retrieve(ctx)
		if err := v4.NewSigner().SignHTTP(ctx, c, check, hex.EncodeToString(sum[:]), "aps", "eu-west-1", when); err != nil {
			t.Fatal(err)
		}
		if got := check.Header.Get("Authorization"); got != auth {
			t.Errorf("signature does not verify:\n got  %s\n want %s", auth, got)
		}
	})
	t.Run("sigv4 with basic is refused", func(t *testing.T) {
		_, err := NewClient(ctx, runbook.Metrics{URL: srv.URL, Auth: runbook.Auth{SigV4Region: "us-east-1", Username: "u"}},
			Options{Getenv: noEnv, AWSCredentials: aws.AnonymousCredentials{}})
		if err == nil {
			t.Error("sigv4 + basic accepted")
		}
	})
}

func TestTLS(t *testing.T) {
	fp := &fakeProm{series: 1, value: func(int, time.Time) float64 { return 1 }}
	srv := httptest.NewUnstartedServer(fp.handler(t))
	// The untrusted-CA case makes the server log a handshake error; expected.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	ca := writeFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	ctx := context.Background()
	try := func(a runbook.Auth) error {
		c, err := NewClient(ctx, runbook.Metrics{URL: srv.URL, Auth: a}, Options{Getenv: noEnv})
		if err != nil {
			return err
		}
		_, _, _, err = c.API.Query(ctx, "up", time.Now())
		return err
	}
	if err := try(runbook.Auth{}); err == nil {
		t.Error("an unknown CA was trusted without being asked")
	}
	if err := try(runbook.Auth{CAFile: ca}); err != nil {
		t.Errorf("with ca_file: %v", err)
	}
	if err := try(runbook.Auth{InsecureSkipTLS: true}); err != nil {
		t.Errorf("with insecure_skip_verify: %v", err)
	}
	if err := try(runbook.Auth{CAFile: writeFile(t, "bad.pem", "not a cert")}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("bad ca_file: %v", err)
	}
}

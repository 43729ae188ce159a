package prom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/runbook"
)

func TestStaleness(t *testing.T) {
	a := newExporter(t, 0.05, 0, 10*time.Millisecond, 1)
	b := newExporter(t, 0.05, 0, 10*time.Millisecond, 1)
	s, client := startLab(t, a, b)
	sel := fmt.Sprintf(`{instance=%q}`, a.Addr)

	// A failing target: up drops to 0 and everything it exposed goes
	// stale at once, rather than lingering for the 5m lookback.
	a.Pause(true)
	e2e.WaitFor(t, 5*time.Second, "up 0 for the paused target", func() bool {
		vs := instant(t, client, s, "up"+sel)
		return len(vs) == 1 && vs[0].Value[1] == "0"
	})
	if vs := instant(t, client, s, "http_requests_total"+sel); len(vs) != 0 {
		t.Errorf("series of a failing target still answered: %v", vs)
	}
	if vs := instant(t, client, s, "scrape_samples_scraped"+sel); len(vs) != 1 || vs[0].Value[1] != "0" {
		t.Errorf("scrape_samples_scraped of a failing target: %v, want 0", vs)
	}
	r := call(t, client, s.URL(), "/api/v1/targets", nil, false)
	var tg struct {
		Active []struct {
			Labels    map[string]string `json:"labels"`
			Health    string            `json:"health"`
			LastError string            `json:"lastError"`
		} `json:"activeTargets"`
	}
	if err := json.Unmarshal(r.Data, &tg); err != nil || len(tg.Active) != 2 {
		t.Fatalf("targets: %v: %s", err, r.raw)
	}
	for _, at := range tg.Active {
		want, errWant := "up", ""
		if at.Labels["instance"] == a.Addr {
			want, errWant = "down", "server returned HTTP status 503 Service Unavailable"
		}
		if at.Health != want || at.LastError != errWant {
			t.Errorf("target %v: health %q error %q, want %q %q", at.Labels, at.Health, at.LastError, want, errWant)
		}
	}
	if vs := instant(t, client, s, fmt.Sprintf(`http_requests_total{instance=%q}`, b.Addr)); len(vs) != 2 {
		t.Errorf("the healthy target lost its series: %v", vs)
	}

	// Recovery: the same series come back.
	a.Pause(false)
	e2e.WaitFor(t, 5*time.Second, "the target back", func() bool {
		return len(instant(t, client, s, "http_requests_total"+sel)) == 2
	})

	// A removed target disappears, up included, without waiting out the
	// lookback; the other keeps being scraped.
	if !s.RemoveTarget(a.Addr) {
		t.Fatal("RemoveTarget: not found")
	}
	if s.RemoveTarget(a.Addr) {
		t.Error("RemoveTarget twice: found again")
	}
	for _, q := range []string{"up" + sel, "http_requests_total" + sel, "scrape_duration_seconds" + sel} {
		if vs := instant(t, client, s, q); len(vs) != 0 {
			t.Errorf("%s after removal: %v", q, vs)
		}
	}
	if vs := instant(t, client, s, "up"); len(vs) != 1 || vs[0].Metric["instance"] != b.Addr {
		t.Errorf("up after removing %s: %v", a.Addr, vs)
	}

	// Pointed at another endpoint under the same job and instance: what the
	// new endpoint does not expose ends at its first scrape.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte("only_this 1\n"))
	}))
	defer other.Close()
	bsel := fmt.Sprintf(`{instance=%q}`, b.Addr)
	if err := s.AddTarget(Target{Job: "checkout", Instance: b.Addr, URL: other.URL}); err != nil {
		t.Fatal(err)
	}
	e2e.WaitFor(t, 5*time.Second, "the new endpoint scraped", func() bool {
		return len(instant(t, client, s, "only_this"+bsel)) == 1
	})
	if vs := instant(t, client, s, "http_requests_total"+bsel); len(vs) != 0 {
		t.Errorf("series the new endpoint does not expose still answered: %v", vs)
	}
	if got := s.Targets(); len(got) != 1 || got[0].URL != other.URL {
		t.Errorf("targets after replacing: %+v", got)
	}

	// Added back under a new job, it is scraped again.
	if err := s.AddTarget(Target{Job: "other", Instance: a.Addr, URL: a.URL()}); err != nil {
		t.Fatal(err)
	}
	e2e.WaitFor(t, 5*time.Second, "the re-added target up", func() bool {
		return len(instant(t, client, s, `up{job="other"} == 1`)) == 1
	})
	if err := s.AddTarget(Target{URL: "ftp://x"}); err == nil || !strings.Contains(err.Error(), `want http://host:port/metrics`) {
		t.Errorf("bad URL accepted or unclear: %v", err)
	}
}

func TestExposedTimestampsAndLabels(t *testing.T) {
	const ts = 1700000000123
	body := fmt.Sprintf("# TYPE with_ts gauge\nwith_ts 42 %d\n# TYPE clash gauge\nclash{job=\"inner\",instance=\"x\",exported_job=\"y\"} 1\n", ts)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	s, err := Start(context.Background(), Options{Targets: []Target{{Job: "j", Instance: "i", URL: srv.URL}}, Interval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	client := &http.Client{}
	defer client.CloseIdleConnections()
	e2e.WaitFor(t, 5*time.Second, "a scrape", func() bool { return len(instant(t, client, s, "up == 1")) == 1 })

	r := call(t, client, s.URL(), "/api/v1/query", url.Values{"query": {"with_ts"}, "time": {strconv.FormatFloat(float64(ts)/1000+1, 'f', 3, 64)}}, false)
	if !strings.Contains(r.raw, `"value":[1700000001.123,"42"]`) || !strings.Contains(r.raw, `"instance":"i","job":"j"`) {
		t.Errorf("exposed timestamp not honoured: %s", r.raw)
	}
	vs := instant(t, client, s, "clash")
	if len(vs) != 1 {
		t.Fatalf("clash: %v", vs)
	}
	want := map[string]string{"__name__": "clash", "job": "j", "instance": "i", "exported_instance": "x", "exported_exported_job": "inner", "exported_job": "y"}
	for k, v := range want {
		if vs[0].Metric[k] != v {
			t.Errorf("label %s = %q, want %q (all: %v)", k, vs[0].Metric[k], v, vs[0].Metric)
		}
	}
}

func TestClientAndPoller(t *testing.T) {
	a := newExporter(t, 0.05, 0.1, 10*time.Millisecond, 2)
	b := newExporter(t, 0.05, 0.3, 10*time.Millisecond, 2)
	s, client := startLab(t, a, b)
	// The 2s rate window must hold only steady traffic before charting.
	e2e.WaitFor(t, 10*time.Second, "3s of scrapes", func() bool {
		return len(instant(t, client, s, "count_over_time(up[3s]) >= 14")) == 2
	})

	ctx := context.Background()
	c, err := metrics.NewClient(ctx, runbook.Metrics{URL: s.URL(), Timeout: 5 * time.Second}, metrics.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	panels := metrics.DefaultPanels(metrics.Conventions{Selector: `job="checkout"`, Window: 2 * time.Second})
	p := metrics.NewPoller(c.API, metrics.Config{Panels: panels, Step: time.Second, Timeout: 5 * time.Second, URL: s.URL()})
	last := func(panel string) (float64, bool) {
		pts := p.Points(panel, "", time.Time{}, time.Time{})
		for i := len(pts) - 1; i >= 0; i-- {
			if !pts[i].Missing && !math.IsNaN(pts[i].V) {
				return pts[i].V, true
			}
		}
		return 0, false
	}
	e2e.WaitFor(t, 15*time.Second, "both panels charted", func() bool {
		if err := p.Poll(ctx); err != nil {
			t.Logf("poll: %v", err)
		}
		_, ok1 := last(metrics.PanelP95)
		_, ok2 := last(metrics.PanelErrorRate)
		return ok1 && ok2
	})
	// Exponential with a 50ms mean: true P95 is 0.05*ln(20) ≈ 0.150, in
	// the default bucket (0.1, 0.25].
	if v, _ := last(metrics.PanelP95); v <= 0.1 || v > 0.25 {
		t.Errorf("P95 %g outside the bucket (0.1, 0.25] holding the true 0.150", v)
	}
	if v, _ := last(metrics.PanelErrorRate); math.Abs(v-0.2) > 0.02 {
		t.Errorf("error rate %g, want 0.2 ± 0.02 (10%% and 30%% at equal rates)", v)
	}
	checks := metrics.CheckPanelsAt(ctx, c.API, []runbook.Panel{{Name: "broken", Query: "sum(rate(x[1m])"}}, time.Now(), 5*time.Second, s.URL())
	var qe *metrics.QueryError
	if !errors.As(checks[0].Err, &qe) || qe.Kind != metrics.KindSyntax {
		t.Errorf("syntax error through the client: %v, want a syntax QueryError", checks[0].Err)
	}
}

func TestCloseLeavesNothing(t *testing.T) {
	before := goleak.IgnoreCurrent()
	x := newExporter(t, 0.05, 0.1, 10*time.Millisecond, 1)
	s, client := startLab(t, x)
	addr := s.ln.Addr().String()
	if vs := instant(t, client, s, "up"); len(vs) != 1 {
		t.Fatalf("up: %v", vs)
	}
	client.CloseIdleConnections()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	e2e.Closed(t, "Close", addr)
	x.Close()
	goleak.VerifyNone(t, before)
}

func TestContextStops(t *testing.T) {
	before := goleak.IgnoreCurrent()
	x := newExporter(t, 0.05, 0.1, 10*time.Millisecond, 1)
	defer x.Close()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, Options{Targets: []Target{{URL: x.URL()}}, Interval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Targets(); len(got) != 1 || got[0].Job != "lab" || got[0].Instance != x.Addr {
		t.Errorf("defaults: %+v, want job lab and instance %s", got, x.Addr)
	}
	addr := s.ln.Addr().String()
	cancel()
	e2e.WaitFor(t, 5*time.Second, "the listener closed", func() bool {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})
	if err := s.Close(); err != nil {
		t.Errorf("close after cancel: %v", err)
	}
	x.Close()
	goleak.VerifyNone(t, before)

	if _, err := Start(context.Background(), Options{Targets: []Target{{URL: "127.0.0.1:9100"}}}); err == nil || !strings.Contains(err.Error(), "target 0") {
		t.Errorf("a URL without scheme: %v, want an error naming target 0", err)
	}
	dup := []Target{{URL: "http://127.0.0.1:9100/metrics"}, {Instance: "127.0.0.1:9100", URL: "http://127.0.0.1:9101/metrics"}}
	if _, err := Start(context.Background(), Options{Targets: dup}); err == nil || !strings.Contains(err.Error(), `target 1: instance "127.0.0.1:9100" already named by target 0`) {
		t.Errorf("a duplicate instance: %v", err)
	}
	bad, err := Start(context.Background(), Options{Addr: "127.0.0.1:99999"})
	if err == nil {
		bad.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "listen on 127.0.0.1:99999") {
		t.Errorf("a bad address: %v", err)
	}
}

func TestFailingScrapes(t *testing.T) {
	hang := make(chan struct{})
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte("metric{ 1\n"))
	}))
	defer garbage.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hang)
	s, err := Start(context.Background(), Options{Interval: 100 * time.Millisecond, Targets: []Target{
		{Job: "bad", Instance: "garbage", URL: garbage.URL},
		{Job: "bad", Instance: "slow", URL: slow.URL},
		{Job: "bad", Instance: "closed", URL: "http://127.0.0.1:1/metrics"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	client := &http.Client{}
	defer client.CloseIdleConnections()
	e2e.WaitFor(t, 5*time.Second, "three failed scrapes", func() bool {
		return len(instant(t, client, s, `up == 0`)) == 3
	})
	r := call(t, client, s.URL(), "/api/v1/targets", nil, false)
	for _, want := range []string{`parse ` + garbage.URL, `context deadline exceeded`, `connection refused`} {
		if !strings.Contains(r.raw, want) {
			t.Errorf("targets do not say %q: %s", want, r.raw)
		}
	}
	if vs := instant(t, client, s, `{job="bad", __name__!~"up|scrape_.*"}`); len(vs) != 0 {
		t.Errorf("failed scrapes stored samples: %v", vs)
	}
}

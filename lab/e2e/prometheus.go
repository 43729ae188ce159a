package e2e

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// StartPrometheus runs the real Prometheus on a free loopback port, scraping
// the given host:port targets every second as job "app", and stops it when
// the test ends. It returns the server's base URL once it is ready.
func StartPrometheus(t testing.TB, targets ...string) string {
	t.Helper()
	quoted := make([]string, len(targets))
	for i, tg := range targets {
		quoted[i] = fmt.Sprintf("%q", tg)
	}
	return StartPrometheusScraping(t, fmt.Sprintf(`  - job_name: app
    static_configs:
      - targets: [%s]
`, strings.Join(quoted, ", ")))
}

// StartPrometheusScraping is StartPrometheus with the scrape_configs list
// given as YAML, for tests that need their own jobs or target labels. The
// global scrape interval is one second.
func StartPrometheusScraping(t testing.TB, scrapeConfigs string) string {
	t.Helper()
	return startPrometheus(t, "scrape_configs:\n"+scrapeConfigs, nil)
}

// startPrometheus runs Prometheus with the global settings above, the rest
// of its configuration given as YAML, and files written beside it (rule
// files, by name).
func startPrometheus(t testing.TB, config string, files map[string]string) string {
	t.Helper()
	bin := Need(t, "prometheus")[0]
	cfg := `global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
` + config
	files = maps.Clone(files)
	if files == nil {
		files = map[string]string{}
	}
	files["prometheus.yml"] = cfg
	return startDaemon(t, "prometheus", bin, files, "--storage.tsdb.path")
}

// startDaemon runs a server of the Prometheus family (Prometheus,
// Alertmanager) from bin: files written into a fresh directory, name.yml
// its configuration, its data under storageFlag, its web server on a free
// loopback port. It returns the base URL once /-/ready answers.
func startDaemon(t testing.TB, name, bin string, files map[string]string, storageFlag string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	for file, body := range files {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A free port is free only until someone else binds it (tests run
	// beside each other): a server that lost its port is started again on
	// another (bounded).
	for attempt := 1; ; attempt++ {
		addr := FreeAddr(t)
		args := append([]string{
			"--config.file=" + filepath.Join(dir, name+".yml"),
			storageFlag + "=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr,
			"--log.level=warn",
		}, extra...)
		url, lost := serve(t, name, dir, addr, "/-/ready", exec.Command(bin, args...), attempt < 5)
		if !lost {
			return url
		}
	}
}

// FreeAddr is a loopback address no one listens on now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return freeTCP(t).String()
}

// freeTCP is a TCP address on 127.0.0.1 that was free a moment ago.
func freeTCP(t testing.TB) *net.TCPAddr {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr)
}

// serve starts cmd, logging to dir, stops it when the test ends, and
// returns its base URL once GET ready answers 200. When the server exits
// because its address was taken and retry is set, serve reports the port
// lost instead of failing the test.
func serve(t testing.TB, name, dir, addr, ready string, cmd *exec.Cmd, retry bool) (url string, lost bool) {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close() // the child has its own copy
	cmd.Stdout, cmd.Stderr = logf, logf
	d, err := startProcess(cmd)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() { d.terminate(10 * time.Second) })
	url = "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-d.exited:
			b, _ := os.ReadFile(logPath)
			if retry && strings.Contains(string(b), "address already in use") {
				return "", true
			}
			t.Fatalf("%s exited early: %v\n%s", name, d.err, b)
		default:
		}
		resp, err := http.Get(url + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, false
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("%s not ready at %s after 20s\n%s", name, url, b)
		}
		<-tick.C
	}
}

// PrometheusAPI is a client of the Prometheus HTTP API at url, the lab's or
// a real one; its connections are closed when the test ends.
func PrometheusAPI(t testing.TB, url string) v1.API {
	t.Helper()
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	c, err := api.NewClient(api.Config{Address: url, RoundTripper: transport})
	if err != nil {
		t.Fatal(err)
	}
	return v1.NewAPI(c)
}

// Query asks a for q at one instant and fails t unless it answers a vector.
func Query(t testing.TB, a v1.API, q string, at time.Time) model.Vector {
	t.Helper()
	return ask[model.Vector](t, "query", q, "vector", func(ctx context.Context) (model.Value, v1.Warnings, error) {
		v, _, _, err := a.Query(ctx, q, at)
		return v, nil, err
	})
}

// QueryRange asks a for q over r and fails t unless it answers a matrix.
func QueryRange(t testing.TB, a v1.API, q string, r v1.Range) model.Matrix {
	t.Helper()
	return ask[model.Matrix](t, "query_range", q, "matrix", func(ctx context.Context) (model.Value, v1.Warnings, error) {
		v, warns, _, err := a.QueryRange(ctx, q, r)
		return v, warns, err
	})
}

// ask makes one call (what) for q with a deadline, logs its warnings and
// fails t on an error or an answer that is not a T (a kind).
func ask[T model.Value](t testing.TB, what, q, kind string, call func(context.Context) (model.Value, v1.Warnings, error)) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, warns, err := call(ctx)
	if err != nil {
		t.Fatalf("%s %s: %v", what, q, err)
	}
	if len(warns) > 0 {
		t.Logf("%s %s: warnings %v", what, q, warns)
	}
	out, ok := v.(T)
	if !ok {
		t.Fatalf("%s %s: %T, want a %s", what, q, v, kind)
	}
	return out
}

// Agree compares two answers to the same range query step by step: the
// same series, a value at every step of r on both sides, and values within
// tol (relative to real's when rel is set). It reports every step out of
// tolerance on t and returns the largest difference seen.
func Agree(t testing.TB, what string, real, lab model.Matrix, r v1.Range, tol float64, rel bool) (maxDiff float64) {
	t.Helper()
	steps := int(r.End.Sub(r.Start)/r.Step) + 1
	rs, ls := map[string][]model.SamplePair{}, map[string][]model.SamplePair{}
	for _, s := range real {
		rs[s.Metric.String()] = s.Values
	}
	for _, s := range lab {
		ls[s.Metric.String()] = s.Values
	}
	if len(rs) == 0 || len(rs) != len(ls) {
		t.Fatalf("%s: Prometheus has %d series, the lab %d:\n%v\n%v", what, len(rs), len(ls), real, lab)
	}
	for _, k := range slices.Sorted(maps.Keys(rs)) {
		rv, lv := rs[k], ls[k]
		if lv == nil {
			t.Fatalf("%s: Prometheus has %s, the lab does not", what, k)
		}
		if len(rv) != steps || len(lv) != steps {
			t.Errorf("%s %s: Prometheus has %d steps, the lab %d, want %d (no gaps)", what, k, len(rv), len(lv), steps)
			continue
		}
		for i := range rv {
			if !rv[i].Timestamp.Equal(lv[i].Timestamp) {
				t.Fatalf("%s %s: step %d at %v and %v", what, k, i, rv[i].Timestamp, lv[i].Timestamp)
			}
			a, b := float64(rv[i].Value), float64(lv[i].Value)
			d := math.Abs(a - b)
			if rel && a != 0 {
				d /= math.Abs(a)
			}
			maxDiff = max(maxDiff, d)
			if !(d <= tol) {
				t.Errorf("%s %s at %s: Prometheus %g, lab %g, differ by %.4g > %g", what, k, rv[i].Timestamp.Time().Format("15:04:05"), a, b, d, tol)
			}
		}
	}
	return maxDiff
}

package metrics

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gameday/gameday/metrics/metricstest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeProm answers query_range and query like Prometheus, with series whose
// values a function decides. It exists for the failure cases and the
// benchmark; correctness against the real thing is prometheus_e2e_test.go.
type fakeProm struct {
	// series is how many series each query returns, labelled instance="i<n>".
	series int
	// value gives a series' value at a time; NaN values are written as
	// "NaN", and metricstest.Gap leaves the step out.
	value func(series int, t time.Time) float64
}

func parseTime(t testing.TB, s string) time.Time {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Errorf("bad time %q", s)
	}
	return time.UnixMilli(int64(math.Round(f * 1000)))
}

func (f *fakeProm) handler(t testing.TB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		var b strings.Builder
		switch r.URL.Path {
		case "/api/v1/query_range":
			start, end := parseTime(t, r.Form.Get("start")), parseTime(t, r.Form.Get("end"))
			stepF, _ := strconv.ParseFloat(r.Form.Get("step"), 64)
			step := time.Duration(stepF * float64(time.Second))
			b.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
			for s := range f.series {
				if s > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `{"metric":{"instance":"i%d"},"values":[`, s)
				first := true
				for ts := start; !ts.After(end); ts = ts.Add(step) {
					v := f.value(s, ts)
					if metricstest.IsGap(v) {
						continue
					}
					if !first {
						b.WriteByte(',')
					}
					first = false
					fmt.Fprintf(&b, `[%s,"%s"]`, strconv.FormatFloat(float64(ts.UnixMilli())/1000, 'f', -1, 64), formatProm(v))
				}
				b.WriteString(`]}`)
			}
			b.WriteString(`]}}`)
		case "/api/v1/query":
			b.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
			for s := range f.series {
				if s > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `{"metric":{"instance":"i%d"},"value":[%d,"%s"]}`, s, time.Now().Unix(), formatProm(f.value(s, time.Now())))
			}
			b.WriteString(`]}}`)
		default:
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(b.String()))
	})
}

func formatProm(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func newFakeServer(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

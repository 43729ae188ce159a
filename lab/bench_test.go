package lab

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
)

// procStatusKB reads a field such as VmRSS from /proc/self/status.
func procStatusKB(b *testing.B, field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status: ", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb
		}
	}
	return 0
}

// BenchmarkLabDefaults runs the lab at its defaults (3 hosts, 50 req/s,
// scrapes every second) and reports the share of one core it uses and its
// resident memory: the whole process, Prometheus and TSDB included. Each
// iteration is ten seconds of the lab running; run it with -benchtime=3x.
func BenchmarkLabDefaults(b *testing.B) {
	l, err := Start(context.Background(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	time.Sleep(3 * time.Second) // past start-up, with series in the head block
	cpu0, wall0 := e2e.CPUTime(b), time.Now()
	for b.Loop() {
		time.Sleep(10 * time.Second)
	}
	cpu, wall := e2e.CPUTime(b)-cpu0, time.Since(wall0)
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%core")
	b.ReportMetric(procStatusKB(b, "VmRSS")/1024, "rss-MB")
	b.ReportMetric(procStatusKB(b, "VmHWM")/1024, "peak-rss-MB")
}

// BenchmarkLabStart is the time from nothing to a lab whose every endpoint
// listens (keys made, files written), and back.
func BenchmarkLabStart(b *testing.B) {
	for b.Loop() {
		l, err := Start(context.Background(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		l.Close()
	}
}

package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// trendRuns holds ten journals of the lab's latency-one-host scenario, run
// by cmd/gameday's TestTrendFromLabRuns with the latency growing from 20ms
// to 200ms (refresh them with its -update-trend-journals flag).
var trendRuns = filepath.Join("testdata", "trend")

func TestTrendsPage(t *testing.T) {
	var buf bytes.Buffer
	if err := Trends(&buf, trendRuns); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if n := strings.Count(page, "<section id=\"runbook-"); n != 1 {
		t.Errorf("%d runbook sections, want 1", n)
	}
	if n := strings.Count(page, `<td class="v-held">held</td>`); n != 10 {
		t.Errorf("%d held runs in the history, want 10", n)
	}
	wantIn(t, "the page", page, `data-panel="p95" data-points="10"`, `data-panel="error_rate" data-points="10"`, "expect &lt; 250ms", "runs, oldest first (2026-12-04 16:27 to 2026-12-04 16:28)")
	if strings.Contains(page, "<script") || strings.Contains(page, "src=") {
		t.Error("the trend page must be self-contained")
	}

	// A run that measured nothing under attack is in the history, not a point.
	runs := t.TempDir()
	for _, name := range []string{"held", "blocked", "refuted"} {
		src, _ := os.ReadFile(filepath.Join("testdata", "journals", name+".jsonl"))
		os.MkdirAll(filepath.Join(runs, name), 0o755)
		os.WriteFile(filepath.Join(runs, name, "journal.jsonl"), src, 0o644)
	}
	buf.Reset()
	if err := Trends(&buf, runs); err != nil {
		t.Fatal(err)
	}
	page = buf.String()
	wantIn(t, "fixtures page", page, `data-panel="p95" data-points="2"`, `<td class="v-blocked">blocked</td>`, `fill="#c01010"`)
}

// blobs counts the separate patches of pixels within tol of (r, g, b) that
// are at least minSize pixels: the points of a chart as painted.
func blobs(img image.Image, r, g, b, tol, minSize int) int {
	bounds := img.Bounds()
	w, h := bounds.Dx(), bounds.Dy()
	hit := make([]bool, w*h)
	for y := range h {
		for x := range w {
			pr, pg, pb, _ := img.At(bounds.Min.X+x, bounds.Min.Y+y).RGBA()
			hit[y*w+x] = abs(int(pr>>8)-r) <= tol && abs(int(pg>>8)-g) <= tol && abs(int(pb>>8)-b) <= tol
		}
	}
	n := 0
	stack := []int{}
	for i := range hit {
		if !hit[i] {
			continue
		}
		size := 0
		hit[i] = false
		stack = append(stack[:0], i)
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			size++
			x, y := p%w, p/w
			for _, q := range [][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
				if q[0] >= 0 && q[0] < w && q[1] >= 0 && q[1] < h && hit[q[1]*w+q[0]] {
					hit[q[1]*w+q[0]] = false
					stack = append(stack, q[1]*w+q[0])
				}
			}
		}
		if size >= minSize {
			n++
		}
	}
	return n
}

type trendInfo struct {
	Panel   string `json:"panel"`
	Points  int    `json:"points"`
	Visible int    `json:"visible"`
}

const measureTrends = `Array.from(document.querySelectorAll('figure.trend')).map(f => {
  const fr = f.getBoundingClientRect();
  const pts = Array.from(f.querySelectorAll('circle.point'));
  const visible = pts.filter(c => { const r = c.getBoundingClientRect();
    return r.width > 2 && r.left >= fr.left && r.right <= fr.right && r.top >= fr.top && r.bottom <= fr.bottom; });
  return {panel: f.dataset.panel, points: pts.length, visible: visible.length};
})`

// TestTrendsInChromium opens the trend page of the ten lab runs in the real
// browser: every chart shows ten points inside its frame, and the
// screenshot has them painted, ten per chart.
func TestTrendsInChromium(t *testing.T) {
	ctx, stop := context.WithTimeout(attachChromium(t), 60*time.Second)
	defer stop()

	var buf bytes.Buffer
	if err := Trends(&buf, trendRuns); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "trends.html")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 900), chromedp.Navigate("file://"+path)); err != nil {
		t.Fatalf("load: %v", err)
	}
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[[]trendInfo](measureTrends))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := screenshotDir(t)
	os.WriteFile(filepath.Join(dir, "trends.png"), shot, 0o644)
	t.Logf("screenshot: %s", filepath.Join(dir, "trends.png"))

	if len(charts) != 2 {
		t.Fatalf("%d trend charts, want 2: %+v", len(charts), charts)
	}
	for _, c := range charts {
		if c.Points != 10 || c.Visible != 10 {
			t.Errorf("chart %s: %d points, %d inside the chart; want 10", c.Panel, c.Points, c.Visible)
		}
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	// Held points are painted in one blue, which nothing else on the page uses.
	if n := blobs(img, 0x1f, 0x4e, 0x9c, 40, 12); n != 20 {
		t.Errorf("the screenshot shows %d points, want 20 (10 per chart)", n)
	}
}

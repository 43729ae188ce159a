package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/metrics/metricstest"
	"github.com/gameday/gameday/targets/targetstest"
)

// startChromium runs headless Debian chromium with its DevTools endpoint on
// loopback, and returns that endpoint's websocket URL. The browser is
// stopped when the test ends.
func startChromium(t *testing.T) string {
	t.Helper()
	bin := e2e.Need(t, "chromium")[0]
	// Not t.TempDir: chromium's helpers may still write there for a moment
	// after the browser is killed, and a failed removal must not fail the test.
	dir, err := os.MkdirTemp("", "gameday-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin,
		"--headless=new", "--no-sandbox", "--disable-gpu", "--user-data-dir="+dir,
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		// Nothing of the browser's own may reach out either.
		"--no-first-run", "--no-default-browser-check", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
		"--metrics-recording-only", "--mute-audio", "--hide-scrollbars",
		"about:blank")
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		for range 50 {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	// Chromium writes the port it chose, then the browser's path, into
	// DevToolsActivePort once it listens.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(filepath.Join(dir, "DevToolsActivePort"))
		if lines := strings.Split(strings.TrimSpace(string(data)), "\n"); err == nil && len(lines) == 2 {
			if _, err := strconv.Atoi(lines[0]); err == nil {
				return "ws://127.0.0.1:" + lines[0] + lines[1]
			}
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("chromium did not open its DevTools port within 30s; stderr:\n%s", tail(stderr.String(), 2000))
	return ""
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// pageCheck is what loading one page in the browser showed.
type pageCheck struct {
	mu       sync.Mutex
	errors   []string // console errors, exceptions, error log entries
	requests []string // every request that is not the page itself
}

func (c *pageCheck) add(list *[]string, s string) {
	c.mu.Lock()
	*list = append(*list, s)
	c.mu.Unlock()
}

// chartInfo is measured in the page: how many paths each chart has, and how
// many of them are data lines (stroked in a series colour, with length).
type chartInfo struct {
	Panel  string  `json:"panel"`
	Paths  int     `json:"paths"`
	Lines  int     `json:"lines"`
	Length float64 `json:"length"` // of the data lines, in the SVG's own units
	View   float64 `json:"view"`   // the SVG's width in those units
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

const measureCharts = `Array.from(document.querySelectorAll('figure.chart')).map(f => {
  const paths = Array.from(f.querySelectorAll('svg path'));
  const lines = paths.filter(p => getComputedStyle(p).stroke === 'rgb(31, 78, 156)' && p.getTotalLength() > 20);
  const r = f.getBoundingClientRect();
  return {panel: f.dataset.panel, paths: paths.length, lines: lines.length,
          length: lines.reduce((n, p) => n + p.getTotalLength(), 0),
          view: f.querySelector('svg').viewBox.baseVal.width, width: r.width, height: r.height};
})`

// layout is what a reader would trip over on the page: words broken
// across lines in a table, phase bands without a name, names drawn over
// each other, attack bands short of the plot's top, and data lines broken
// between the baseline and the first attack.
type layout struct {
	Wraps      []string `json:"wraps"`
	Unlabelled []string `json:"unlabelled"`
	Overlaps   []string `json:"overlaps"`
	Covered    []string `json:"covered"` // names a band is painted over

	Short []string `json:"short"`
	Gaps  []string `json:"gaps"`
	Bands int      `json:"bands"`
}

const measureLayout = `(() => {
  const out = {wraps: [], unlabelled: [], overlaps: [], covered: [], short: [], gaps: [], bands: 0};
  document.querySelectorAll('td, th').forEach(cell => {
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const re = /\S+/g;
      for (let m = re.exec(n.data); m; m = re.exec(n.data)) {
        const r = document.createRange();
        r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
        const tops = new Set(Array.from(r.getClientRects()).filter(x => x.width > 0).map(x => Math.round(x.top)));
        if (tops.size > 1) out.wraps.push(m[0]);
      }
    }
  });
  document.querySelectorAll('figure.chart').forEach(f => {
    const panel = f.dataset.panel;
    const labels = Array.from(f.querySelectorAll('text.phase-label'));
    const named = new Set(labels.map(t => t.dataset.phase));
    const phases = Array.from(f.querySelectorAll('rect.phase'));
    out.bands += phases.length;
    phases.forEach(r => { if (!named.has(r.dataset.phase)) out.unlabelled.push(panel + ': ' + r.dataset.phase); });
    const boxes = labels.map(t => [t.dataset.phase, t.getBBox()]);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [a, p] = boxes[i], [b, q] = boxes[j];
      if (p.x < q.x + q.width && q.x < p.x + p.width && p.y < q.y + q.height && q.y < p.y + p.height)
        out.overlaps.push(panel + ': ' + a + ' over ' + b);
    }
    const rects = Array.from(f.querySelectorAll('rect.phase, rect.attack'));
    labels.forEach(t => {
      if (rects.some(r => t.compareDocumentPosition(r) & Node.DOCUMENT_POSITION_FOLLOWING)) out.covered.push(panel + ': ' + t.dataset.phase);
    });
    const top = Math.min(...phases.map(r => r.y.baseVal.value));
    f.querySelectorAll('rect.attack').forEach(r => {
      if (r.y.baseVal.value > top + 0.5) out.short.push(panel + ': ' + r.dataset.attack);
    });
    const base = phases.find(r => r.dataset.phase === 'baseline');
    const attack = f.querySelector('rect.attack');
    if (base && attack) {
      const from = base.x.baseVal.value + base.width.baseVal.value, to = attack.x.baseVal.value;
      const lines = Array.from(f.querySelectorAll('svg path')).filter(p => getComputedStyle(p).stroke === 'rgb(31, 78, 156)');
      if (!lines.some(p => { const b = p.getBBox(); return b.x <= from + 0.5 && b.x + b.width >= to - 0.5; }))
        out.gaps.push(panel + ': no line from the end of the baseline (' + from.toFixed(1) + ') to the attack (' + to.toFixed(1) + ')');
    }
  });
  return out;
})()`

// attachChromium starts headless chromium and returns a browser context
// attached to it; both end with the test.
func attachChromium(t *testing.T) context.Context {
	t.Helper()
	ws := startChromium(t)
	alloc, cancelAlloc := remote.NewAllocator(context.Background(), ws)
	t.Cleanup(cancelAlloc)
	browser, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("attach to chromium at %s: %v", ws, err)
	}
	return browser
}

// screenshotDir is where screenshots are kept for a person to look at:
// $GAMEDAY_SCREENSHOTS, or a folder of the system's temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GAMEDAY_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "gameday-report-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// listener records console errors, exceptions, error log entries and
// requests for anything but file:// pages, and hands paused requests on to
// paused without blocking.
func (check *pageCheck) listener(paused chan<- *fetch.EventRequestPaused) func(ev any) {
	return func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				check.add(&check.errors, fmt.Sprintf("console.%s", ev.Type))
			}
		case *runtime.EventExceptionThrown:
			check.add(&check.errors, "exception: "+ev.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				check.add(&check.errors, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			if !strings.HasPrefix(ev.Request.URL, "file://") {
				check.add(&check.requests, ev.Request.URL)
			}
		case *fetch.EventRequestPaused:
			select {
			case paused <- ev:
			default:
			}
		}
	}
}

// load opens url in a new tab with every request other than file:// pages
// blocked and recorded, and returns what it saw, the charts measured, and a
// full-page screenshot.
func load(t *testing.T, browser context.Context, url string) (check *pageCheck, charts []chartInfo, lay layout, shot, printed []byte) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	defer cancel()
	ctx, stop := context.WithTimeout(ctx, 60*time.Second)
	defer stop()
	check = &pageCheck{}
	paused := make(chan *fetch.EventRequestPaused, 64)
	if err := chromedp.Listen(ctx, check.listener(paused)); err != nil {
		t.Fatal(err)
	}
	// Paused requests are answered off the listener, which must not block.
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-paused:
				if strings.HasPrefix(ev.Request.URL, "file://") {
					chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
					continue
				}
				check.add(&check.requests, ev.Request.URL)
				chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
			}
		}
	}()
	enable := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, err := range []error{
			call(ctx, tg, runtime.Enable, cdp.Empty{}),
			call(ctx, tg, cdplog.Enable, cdp.Empty{}),
			call(ctx, tg, network.Enable, network.EnableParams{}),
			call(ctx, tg, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}}),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err := chromedp.Do(ctx, enable, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(url)); err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[[]chartInfo](measureCharts))
	if err != nil {
		t.Fatalf("measure charts: %v", err)
	}
	lay, err = chromedp.Run(ctx, chromedp.Evaluate[layout](measureLayout))
	if err != nil {
		t.Fatalf("measure layout: %v", err)
	}
	shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	pdf, err := chromedp.Call(ctx, page.PrintToPDF, page.PrintToPDFParams{})
	if err != nil || !bytes.HasPrefix(pdf.Data, []byte("%PDF")) {
		t.Errorf("print to PDF: %v", err)
	}
	// How the page looks to a printer: the print stylesheet applied.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatalf("emulate print: %v", err)
	}
	printed, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("print screenshot: %v", err)
	}
	return check, charts, lay, shot, printed
}

func call[P any](ctx context.Context, tg *chromedp.Target, c cdp.Command[P, cdp.Empty], p P) error {
	_, err := cdp.Call(ctx, tg, c, p)
	return err
}

// TestHTMLInChromium renders reports in a real headless browser: no console
// errors, no network request of any kind, and both charts drawn with their
// data lines. Screenshots are kept for a person to look at.
func TestHTMLInChromium(t *testing.T) {
	browser := attachChromium(t)
	shots := screenshotDir(t)

	t.Run("recorder sees requests", func(t *testing.T) {
		// The check below must be able to fail: a page that does fetch is caught.
		path := filepath.Join(t.TempDir(), "fetches.html")
		os.WriteFile(path, []byte(`<!DOCTYPE html><title>x</title><img src="http://127.0.0.1:9/pixel.png"><script>console.error("boom")</script>`), 0o644)
		check, _, _, _, _ := load(t, browser, "file://"+path)
		if len(check.requests) == 0 || len(check.errors) == 0 {
			t.Fatalf("a page that fetches and logs an error went unnoticed: requests %v, errors %v", check.requests, check.errors)
		}
	})

	t.Run("layout checks catch what they look for", func(t *testing.T) {
		// A cell too narrow for its word, a band without a name and an
		// attack band short of the top must each be caught.
		path := filepath.Join(t.TempDir(), "bad.html")
		os.WriteFile(path, []byte(`<!DOCTYPE html><title>x</title><table style="width:40px"><tr><td style="overflow-wrap:anywhere">checkout-survives</td></tr></table>`+
			`<figure class="chart" data-panel="p"><svg viewBox="0 0 100 100"><rect class="phase" data-phase="baseline" x="0" y="0" width="50" height="100"/>`+
			`<text class="phase-label" data-phase="baseline" x="2" y="9">baseline</text><rect class="phase" data-phase="run" x="50" y="0" width="50" height="100"/>`+
			`<rect class="attack" data-attack="slow" x="60" y="20" width="10" height="80"/>`+
			`<path d="M0,50L40,50" stroke="#1f4e9c"/><path d="M70,50L90,50" stroke="#1f4e9c"/></svg></figure>`), 0o644)
		_, _, lay, _, _ := load(t, browser, "file://"+path)
		if len(lay.Wraps) == 0 || len(lay.Unlabelled) == 0 || len(lay.Covered) == 0 || len(lay.Short) == 0 || len(lay.Gaps) == 0 {
			t.Fatalf("a broken page passed: %+v", lay)
		}
	})

	// engine: a run journalled by the real engine, with a facilitator who
	// takes 20 seconds over the hypothesis and the blast radius each, as a
	// lab run's is. lab: a latency-one-host run of the real lab (one of the
	// trend test's journals).
	for _, name := range []string{"held", "aborted", "crashed", "engine", "lab"} {
		t.Run(name, func(t *testing.T) {
			check, charts, lay := renderInChromium(t, browser, shots, name, reportFor(t, name))
			if len(check.errors) > 0 {
				t.Errorf("console errors: %v", check.errors)
			}
			if len(check.requests) > 0 {
				t.Errorf("the page made network requests: %v", check.requests)
			}
			// The hand-written journals predate samples being journalled
			// through the hypothesis and the blast radius.
			checkLayout(t, lay, name == "engine" || name == "lab")
			checkDataLines(t, charts, "p95", "error_rate")
		})
	}
}

// reportFor is the report a browser case reads: a hand-written fixture, a
// run of the real engine, or a run of the real lab.
func reportFor(t *testing.T, name string) *Report {
	t.Helper()
	var r *Report
	var err error
	switch name {
	case "engine":
		r, err = Load(runEngineAs(t, engineRunbook, func(h *targetstest.Executor) *metricstest.Querier { return hurting(h, 0.1, 0.2) }, 20*time.Second))
	case "lab":
		runs, _ := filepath.Glob(filepath.Join("testdata", "trend", "*"))
		if len(runs) == 0 {
			t.Fatal("no lab journals under testdata/trend")
		}
		r, err = Load(runs[len(runs)-1])
	default:
		return loadFixture(t, name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// renderInChromium writes r's HTML, loads it, keeps the screenshots under
// shots and returns what the page did and how it is laid out.
func renderInChromium(t *testing.T, browser context.Context, shots, name string, r *Report) (*pageCheck, []chartInfo, layout) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.html")
	var buf bytes.Buffer
	if err := r.HTML(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	check, charts, lay, shot, printed := load(t, browser, "file://"+path)
	for suffix, img := range map[string][]byte{"": shot, "-print": printed} {
		png := filepath.Join(shots, name+suffix+".png")
		if err := os.WriteFile(png, img, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", png)
	}
	return check, charts, lay
}

// checkLayout fails on what a reader would trip over; gaps only where the
// journal has the samples between the baseline and the attack.
func checkLayout(t *testing.T, lay layout, gaps bool) {
	t.Helper()
	if lay.Bands == 0 {
		t.Errorf("no phase band found on the charts")
	}
	if len(lay.Wraps) > 0 {
		t.Errorf("words broken across lines in tables at 1280px: %q", lay.Wraps)
	}
	if len(lay.Unlabelled) > 0 || len(lay.Overlaps) > 0 || len(lay.Covered) > 0 {
		t.Errorf("phase bands without a name %q, names over each other %q, names under a band %q", lay.Unlabelled, lay.Overlaps, lay.Covered)
	}
	if len(lay.Short) > 0 {
		t.Errorf("attack bands short of the plot's top: %q", lay.Short)
	}
	if gaps && len(lay.Gaps) > 0 {
		t.Errorf("data lines broken between the baseline and the attack: %q", lay.Gaps)
	}
}

// checkDataLines fails unless each named panel's chart has a data line
// drawn across a good part of it.
func checkDataLines(t *testing.T, charts []chartInfo, panels ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, p := range panels {
		want[p] = false
	}
	for _, c := range charts {
		t.Logf("chart %s: %d paths, %d data line(s) %.0f long in a chart %.0f wide, drawn at %.0fx%.0fpx", c.Panel, c.Paths, c.Lines, c.Length, c.View, c.Width, c.Height)
		if _, ok := want[c.Panel]; !ok {
			continue
		}
		want[c.Panel] = c.Lines > 0 && c.Length > c.View/4 && c.Height > 100
	}
	for panel, ok := range want {
		if !ok {
			t.Errorf("chart %s has no drawn data line", panel)
		}
	}
}

package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The PDF is the HTML page printed by headless Chromium (or Chrome): the
// same content and charts, laid out by a real browser, with no PDF code of
// our own in the binary. Chromium is looked for on PATH when a PDF is asked
// for; without it every other format is still written.

// Browsers are the program names tried, in order, to print the PDF.
var Browsers = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"}

// EnvBrowser names a browser binary to use instead of looking on PATH.
const EnvBrowser = "GAMEDAY_CHROMIUM"

// Paper sizes the PDF can be printed on.
const (
	PaperA4     = "a4"
	PaperLetter = "letter"
)

// pdfTimeout bounds one print: Chromium starts and prints a report in a
// few seconds; a hung browser must not hang the command.
const pdfTimeout = 90 * time.Second

// ErrNoBrowser says no Chromium or Chrome was found.
var ErrNoBrowser = errors.New("the PDF report needs headless Chromium or Google Chrome, and none was found on PATH (looked for " +
	strings.Join(Browsers, ", ") + ", and $" + EnvBrowser + "): install it (Debian/Ubuntu: apt-get install chromium; Fedora: dnf install chromium; macOS: brew install --cask chromium) or set " + EnvBrowser + " to its path")

// FindBrowser is the browser that prints PDFs: $GAMEDAY_CHROMIUM, else the
// first of Browsers on PATH.
func FindBrowser() (string, error) {
	if p := os.Getenv(EnvBrowser); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("$%s=%s: %w", EnvBrowser, p, err)
		}
		return path, nil
	}
	for _, name := range Browsers {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", ErrNoBrowser
}

// printCSS lays the page out on paper: sections start where they fit,
// tables, charts and table rows are not cut, and a table's header repeats
// on the next page when a long one (the timeline) has to break.
const printCSS = `<style>
@page { size: %s; margin: 12mm 11mm; }
@media print {
  body { padding: 0; font-size: 9pt; line-height: 1.35; }
  h1 { font-size: 15pt; margin: 0 0 .3rem; }
  h2 { font-size: 11.5pt; margin-top: .9rem; break-after: avoid; }
  table { font-size: 8pt; margin: .3rem 0; }
  th, td { padding: .12rem .4rem; }
  figure { margin: .4rem 0; }
  figure svg { max-height: 68mm; }
  section { break-before: auto; }
  table, figure, pre, .notice, .verdict { break-inside: avoid; }
  thead { display: table-header-group; }
  tr, td, th { break-inside: avoid; }
  #timeline td:nth-child(-n+3) { white-space: nowrap; }
  p { orphans: 3; widows: 3; }
}
</style>
`

// PDF prints the report to a PDF on paper ("a4" or "letter") with the
// browser at browser (FindBrowser's), and returns the document.
func (r *Report) PDF(ctx context.Context, browser, paper string) ([]byte, error) {
	size, err := paperSize(paper)
	if err != nil {
		return nil, err
	}
	var page bytes.Buffer
	if err := r.HTML(&page); err != nil {
		return nil, err
	}
	html := strings.Replace(page.String(), "</head>", fmt.Sprintf(printCSS, size)+"</head>", 1)
	return PrintPDF(ctx, browser, []byte(html))
}

func paperSize(paper string) (string, error) {
	switch strings.ToLower(paper) {
	case "", PaperA4:
		return "A4", nil
	case PaperLetter:
		return "Letter", nil
	}
	return "", fmt.Errorf("paper %q: expected %s or %s", paper, PaperA4, PaperLetter)
}

// PrintPDF prints a self-contained HTML page to PDF with headless Chromium.
// The page is read from a private temporary directory, and the browser runs
// with its own throw-away profile and nothing of its own reaching out.
func PrintPDF(ctx context.Context, browser string, html []byte) ([]byte, error) {
	dir, err := os.MkdirTemp("", "gameday-pdf-")
	if err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "report.html"), filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(in, html, 0o600); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, pdfTimeout)
	defer cancel()
	args := []string{
		"--headless=new", "--disable-gpu", "--no-pdf-header-footer",
		"--user-data-dir=" + filepath.Join(dir, "profile"),
		"--no-first-run", "--no-default-browser-check", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
		"--run-all-compositor-stages-before-draw",
		"--print-to-pdf=" + out,
		(&url.URL{Scheme: "file", Path: in}).String(),
	}
	if os.Geteuid() == 0 {
		// Chromium refuses to run as root with its sandbox (containers, CI).
		args = append([]string{"--no-sandbox"}, args...)
	}
	cmd := exec.CommandContext(ctx, browser, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	// Chromium forks helpers: on timeout the whole group goes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	pdf, err := os.ReadFile(out)
	if runErr != nil || err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		why := runErr
		if why == nil {
			why = errors.New("it wrote no PDF")
		}
		if ctx.Err() != nil {
			why = fmt.Errorf("no PDF within %s", pdfTimeout)
		}
		return nil, fmt.Errorf("pdf: %s: %w\n%s", browser, why, lastLines(stderr.String(), 5))
	}
	return pdf, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

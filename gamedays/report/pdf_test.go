package report

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gameday/gameday/lab/e2e"
)

// pdfPage renders page n of pdf to a PNG at dpi with poppler's pdftoppm and
// extracts its text with pdftotext.
func pdfPage(t *testing.T, pdf []byte, n, dpi int) (image.Image, string) {
	t.Helper()
	bins := e2e.Need(t, "pdftoppm", "pdftotext")
	dir := t.TempDir()
	in := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	page := []string{"-f", strconv.Itoa(n), "-l", strconv.Itoa(n)}
	if out, err := exec.Command(bins[0], append(page, "-r", strconv.Itoa(dpi), "-png", "-singlefile", in, filepath.Join(dir, "page"))...).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command(bins[1], append(page, "-layout", in, "-")...).Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return img, string(text)
}

// near counts the pixels within tol of the colour (r, g, b), and the rows
// they span.
func near(img image.Image, r, g, b, tol int) (count, top, bottom int) {
	top = -1
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if abs(int(pr>>8)-r) <= tol && abs(int(pg>>8)-g) <= tol && abs(int(pb>>8)-b) <= tol {
				count++
				if top < 0 {
					top = y
				}
				bottom = y
			}
		}
	}
	return count, top, bottom
}

func abs(v int) int { return max(v, -v) }

// TestPDFInChromium prints reports with the real Chromium and reads page 1
// back with poppler: the verdict is there in words, and the first chart
// is there whole, with its data line, its title and its time axis.
func TestPDFInChromium(t *testing.T) {
	browser := e2e.Need(t, "chromium")[0]
	for _, tc := range []struct {
		name, paper, verdict, size string
	}{
		{"held", PaperA4, "HELD:", "pts (A4)"},
		{"aborted", PaperLetter, "ABORTED:", "612 x 792 pts (letter)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := loadFixture(t, tc.name)
			pdf, err := r.PDF(context.Background(), browser, tc.paper)
			if err != nil {
				t.Fatal(err)
			}
			img, text := pdfPage(t, pdf, 1, 100)
			shots := filepath.Join(os.TempDir(), "gameday-report-screenshots")
			os.MkdirAll(shots, 0o755)
			var buf bytes.Buffer
			png.Encode(&buf, img)
			os.WriteFile(filepath.Join(shots, tc.name+"-pdf-page1.png"), buf.Bytes(), 0o644)
			t.Logf("page 1: %s", filepath.Join(shots, tc.name+"-pdf-page1.png"))

			wantIn(t, "page 1", text, r.Title, tc.verdict, "Metrics over the run", "P95 latency", "time since the run started")
			// The data line is drawn in the first series colour; on page 1,
			// and not running off its bottom edge.
			line, top, bottom := near(img, 0x1f, 0x4e, 0x9c, 40)
			h := img.Bounds().Dy()
			if line < 100 || bottom >= h-int(float64(h)*0.03) {
				t.Errorf("chart data line on page 1: %d pixels in rows %d-%d of %d", line, top, bottom, h)
			}
			ink, _, _ := near(img, 255, 255, 255, 30)
			if total := img.Bounds().Dx() * h; total-ink < total/20 {
				t.Errorf("page 1 is nearly blank: %d of %d pixels are ink", total-ink, total)
			}
			pages := pdfInfo(t, pdf)
			if !strings.Contains(pages, tc.size) {
				t.Errorf("paper: want %s, pdfinfo says:\n%s", tc.size, pages)
			}
			// A table that fits on a page is not cut: the timeline's first
			// and last rows are on one page.
			first, last := r.Timeline[0].Text, r.Timeline[len(r.Timeline)-1].Text
			pageOf := func(s string) int {
				for n := 1; n <= pdfPages(pages); n++ {
					_, text := pdfPage(t, pdf, n, 10)
					if strings.Contains(strings.Join(strings.Fields(text), " "), s) {
						return n
					}
				}
				return 0
			}
			if a, b := pageOf(first), pageOf(last); a == 0 || a != b {
				t.Errorf("the timeline starts on page %d and ends on page %d", a, b)
			}
		})
	}
}

func pdfInfo(t *testing.T, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.pdf")
	os.WriteFile(path, pdf, 0o644)
	out, err := exec.Command(e2e.Need(t, "pdfinfo")[0], path).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	return string(out)
}

// TestPDFWithoutBrowser: with no browser, the message says what to
// install, and every other format is still written.
func TestPDFWithoutBrowser(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(EnvBrowser, "")
	out := t.TempDir()
	files, err := WriteTo(filepath.Join("testdata", "journals", "held.jsonl"), out, []string{"md", "pdf", "html", "json"})
	if !errors.Is(err, ErrNoBrowser) || !strings.Contains(err.Error(), "apt-get install chromium") {
		t.Fatalf("error: %v", err)
	}
	for _, f := range []string{"report.md", "report.html", "report.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s not written: %v (wrote %v)", f, err, files)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "report.pdf")); err == nil {
		t.Error("report.pdf written without a browser")
	}
	// By default the PDF is simply left out.
	files, err = WriteTo(filepath.Join("testdata", "journals", "held.jsonl"), t.TempDir(), nil)
	if err != nil || len(files) == 0 {
		t.Fatalf("defaults without a browser: %v, %v", files, err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".pdf") {
			t.Errorf("wrote %s", f)
		}
	}
}

// pdfPages reads the page count from pdfinfo's output.
func pdfPages(info string) int {
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(line, "Pages:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(rest))
			return n
		}
	}
	return 0
}

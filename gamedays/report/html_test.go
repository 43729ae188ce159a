package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// The HTML must open offline: nothing in it may point outside the file.
func TestHTMLSelfContained(t *testing.T) {
	xmlns := regexp.MustCompile(`xmlns(:\w+)?="http://www\.w3\.org/[^"]*"`)
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := loadFixture(t, s.name).HTML(&buf); err != nil {
				t.Fatal(err)
			}
			page := buf.String()
			for _, bad := range []string{"<script", "<link", "@import", "url(", "src=", "@font-face", "<iframe", "<object"} {
				if strings.Contains(page, bad) {
					t.Errorf("the page contains %q", bad)
				}
			}
			if m := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`).FindAllString(xmlns.ReplaceAllString(page, ""), -1); len(m) > 0 {
				t.Errorf("the page names addresses outside it: %v", m)
			}
			if n := strings.Count(page, "<svg"); n != 2 {
				t.Errorf("%d inline SVG charts, want 2", n)
			}
			if !strings.Contains(page, "@media print") {
				t.Error("no print stylesheet")
			}
		})
	}
}

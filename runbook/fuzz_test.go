package runbook_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// FuzzParse: the loader never panics, and every failure is an ErrorList whose
// entries name the file and a line and column inside the input.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("version: 1\nname: x\n"))
	f.Add([]byte("{a: [1, *b]}"))
	f.Add([]byte("&a [*a]"))
	cat := targets.Default()
	f.Fuzz(func(t *testing.T, data []byte) {
		rb, err := runbook.Parse("fuzz.yaml", data, cat)
		if err == nil {
			if rb == nil {
				t.Fatal("nil runbook without error")
			}
			return
		}
		var list runbook.ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error is not a non-empty ErrorList: %T %v", err, err)
		}
		// Lines as YAML counts them: CR LF, CR, LF, NEL, LS and PS each end one.
		text := strings.ReplaceAll(string(data), "\r\n", "\n")
		lines := 1 + strings.Count(text, "\n") + strings.Count(text, "\r") +
			strings.Count(text, "\u0085") + strings.Count(text, "\u2028") + strings.Count(text, "\u2029")
		for _, e := range list {
			if e.File != "fuzz.yaml" || e.Msg == "" || e.Line < 1 || e.Col < 1 || e.Line > lines+1 {
				t.Fatalf("bad error %+v for %d-line input", e, lines)
			}
		}
	})
}

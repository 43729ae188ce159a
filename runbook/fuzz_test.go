package runbook_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// FuzzParse: the loader never panics, and every failure is an ErrorList whose
// entries name the file and lie inside the input.
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
		lines := 1
		for _, c := range data {
			if c == '\n' {
				lines++
			}
		}
		for _, e := range list {
			if e.File != "fuzz.yaml" || e.Msg == "" || e.Line > lines+1 {
				t.Fatalf("bad error %+v for %d-line input", e, lines)
			}
		}
	})
}

package gendoc

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder records Errorf instead of failing the test that checks Check.
type recorder struct {
	testing.TB
	got []string
}

func (e *recorder) Errorf(format string, args ...any) {
	e.got = append(e.got, fmt.Sprintf(format, args...))
}

func TestCheckThenUpdate(t *testing.T) {
	const begin = "<!-- BEGIN generated here -->\n"
	path := filepath.Join(t.TempDir(), "doc.md")
	if err := os.WriteFile(path, []byte("# Doc\n"+begin+"old\n"+End+"\ntail\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stale := &recorder{TB: t}
	Check(stale, path, begin, "new\n", false, "go test -update")
	if len(stale.got) != 1 || !strings.Contains(stale.got[0], "doc.md is out of date; run: go test -update") {
		t.Fatalf("a stale part gave %q", stale.got)
	}
	Check(t, path, begin, "new\n", true, "")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "# Doc\n" + begin + "new\n" + End + "\ntail\n"; string(b) != want {
		t.Fatalf("after update:\n%s\nwant:\n%s", b, want)
	}
	fresh := &recorder{TB: t}
	Check(fresh, path, begin, "new\n", false, "")
	if len(fresh.got) != 0 {
		t.Fatalf("an updated part gave %q", fresh.got)
	}
}

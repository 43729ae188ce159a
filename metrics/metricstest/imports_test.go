package metricstest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The fakes stand in for a server and a host only where a test says so: no
// program of the module may link them. This guards targets/targetstest and
// metrics/alerts/alertstest (which starts real daemons for tests) and
// gamedays/journaltest too, so the rule lives in one place.
func TestOnlyTestsImportTheFakes(t *testing.T) {
	fakes := map[string]bool{
		"github.com/gameday/gameday/metrics/metricstest":       true,
		"github.com/gameday/gameday/targets/targetstest":       true,
		"github.com/gameday/gameday/metrics/alerts/alertstest": true,
		"github.com/gameday/gameday/gamedays/journaltest":      true,
	}
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); fakes[p] {
				t.Errorf("%s imports %s, which only tests may", fset.Position(imp.Pos()), p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("read %d Go files under %s; the module is bigger than that", files, root)
	}
}

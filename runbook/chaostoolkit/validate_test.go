package chaostoolkit_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/runbook/chaostoolkit"
	"github.com/gameday/gameday/targets"
)

// An import is only useful if gameday accepts what it writes: placeholders
// included, every golden runbook must validate as it stands.
func TestImportedRunbooksValidate(t *testing.T) {
	cat := targets.Default()
	for _, g := range goldens {
		_, _, res := importFixture(t, g.file)
		if _, err := runbook.Parse(g.file+".runbook.yaml", res.YAML, cat); err != nil {
			t.Errorf("%s: imported runbook does not validate:\n%v\n%s", g.file, err, res.YAML)
		}
	}
}

func TestAwkwardImportsValidate(t *testing.T) {
	cat := targets.Default()
	for _, s := range awkward {
		exp := map[string]any{
			"title": s, "description": s, "tags": []string{s},
			"steady-state-hypothesis": map[string]any{"title": s},
			"method": []any{map[string]any{
				"type": "action", "name": s,
				"provider": map[string]any{"type": "python", "module": "chaosaws.awslambda.actions", "func": "put_function_concurrency",
					"arguments": map[string]any{"function_name": "orders", "concurrent_executions": 2}},
			}},
		}
		data, _ := json.Marshal(exp)
		res, err := chaostoolkit.Import("awkward.json", data)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := runbook.Parse("awkward.yaml", res.YAML, cat)
		if strings.TrimSpace(s) == "" {
			continue
		}
		if err != nil {
			t.Errorf("%q: does not validate:\n%v\n%s", s, err, res.YAML)
			continue
		}
		if rb.Name != strings.TrimSpace(s) || rb.Attacks[0].Name != s {
			t.Errorf("%q: name %q, attack %q", s, rb.Name, rb.Attacks[0].Name)
		}
	}
}

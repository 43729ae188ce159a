package targets

import (
	"strings"
	"testing"
)

func TestCustomTemplateParams(t *testing.T) {
	k, _ := Default().Spec("custom")
	ok := map[string]string{
		"inject":   "systemctl stop {{unit:unit}} && sleep {{pause:duration}}",
		"rollback": "systemctl start {{ unit:unit }}",
		"unit":     "nginx",
		"pause":    "1m30s",
	}
	v, probs := k.Parse(ok)
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	if v.String("unit") != "nginx.service" && v.String("unit") != "nginx" {
		t.Errorf("unit = %q", v.String("unit"))
	}
	quote := func(s string) string { return "<" + s + ">" }
	if got := Expand(v.String("inject"), v, quote); got != "systemctl stop <"+v.String("unit")+"> && sleep <"+v.String("pause")+">" {
		t.Errorf("inject expands to %q", got)
	}
	if got := Expand(v.String("rollback"), v, quote); got != "systemctl start <"+v.String("unit")+">" {
		t.Errorf("rollback expands to %q", got)
	}

	with := func(edits map[string]string) map[string]string {
		p := map[string]string{}
		for k, v := range ok {
			p[k] = v
		}
		for k, v := range edits {
			if v == "" {
				delete(p, k)
			} else {
				p[k] = v
			}
		}
		return p
	}
	tests := []struct {
		name  string
		edits map[string]string
		want  string
	}{
		{"value missing", map[string]string{"pause": ""}, `missing param "pause" for custom: value of {{pause:duration}} in the templates`},
		{"value of the wrong type", map[string]string{"pause": "soon"}, `params.pause: expected a duration such as 200ms, found "soon"`},
		{"hostile value", map[string]string{"unit": "nginx; rm -rf /"}, `params.unit: expected`},
		{"unknown type", map[string]string{"inject": "stop {{unit:service}}"}, `params.inject: {{unit:service}} has an unknown type "service"; expected one of: duration, offset,`},
		{"two types for one name", map[string]string{"rollback": "start {{unit:path}}"}, `params.rollback: {{unit:path}} is declared as unit in inject; one param has one type`},
		{"stray braces", map[string]string{"rollback": "start {{unit}}"}, `params.rollback: a placeholder is written {{name:type}}, such as {{unit:unit}}; found a stray {{ or }}`},
		{"param no template uses", map[string]string{"port": "80"}, `unknown param "port" for custom (did you mean "unit"?); it takes: inject, pause, rollback, unit`},
		{"a template as a value", map[string]string{"rollback": "echo {{inject:path}}"}, `params.rollback: {{inject:path}} names a template`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := k.Parse(with(tc.edits))
			var msgs []string
			found := false
			for _, p := range probs {
				msgs = append(msgs, p.Msg)
				found = found || strings.Contains(p.Msg, tc.want)
			}
			if !found {
				t.Errorf("problems %q\nwant one containing %q", msgs, tc.want)
			}
		})
	}
}

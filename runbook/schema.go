package runbook

import (
	"encoding/json"
	"fmt"
	"strings"
)

// field describes one key of the runbook format. The tree below is the single
// source for the keys the loader accepts, the JSON Schema editors use, and the
// reference in docs/runbook.md, so the three cannot drift apart.
type field struct {
	Name     string
	Type     string // object, map, list, string, duration, threshold, int, number, bool, account
	Doc      string
	Required bool
	Enum     []string
	Fields   []*field // object: its keys
	Elem     *field   // map values and list items
}

func (f *field) child(name string) *field {
	for _, c := range f.Fields {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (f *field) names() []string {
	out := make([]string, len(f.Fields))
	for i, c := range f.Fields {
		out[i] = c.Name
	}
	return out
}

func obj(name, doc string, fields ...*field) *field {
	return &field{Name: name, Type: "object", Doc: doc, Fields: fields}
}
func leaf(name, typ, doc string) *field { return &field{Name: name, Type: typ, Doc: doc} }
func req(f *field) *field               { f.Required = true; return f }

var resourceTypes = []string{
	"ec2:instance", "ec2:security-group", "lambda:function", "ecs:task", "rds:cluster",
	"rds:instance", "autoscaling:group", "fis:experiment-template", "dynamodb:table",
}

var panelUnits = []string{"seconds", "ratio", "bytes"}

func schemaTree() *field {
	thresholds := func(name, doc string) *field {
		return &field{Name: name, Type: "map", Doc: doc, Elem: leaf("", "threshold", "")}
	}
	panel := obj("", "",
		req(leaf("query", "string", "PromQL expression; a scalar or one series per `by` value")),
		&field{Name: "unit", Type: "string", Enum: panelUnits, Doc: "what the numbers measure; omit for a plain number"},
		leaf("title", "string", "chart title; defaults to the panel name"),
		leaf("by", "string", "label that splits the panel into one series per value, e.g. instance"),
	)
	return obj("", "A gameday runbook",
		&field{Name: "version", Type: "int", Required: true, Doc: "format version; must be 1"},
		req(leaf("name", "string", "what this game day is about, in a line")),
		leaf("description", "string", "longer text; its first line is the summary"),
		&field{Name: "tags", Type: "list", Doc: "free-form labels", Elem: leaf("", "string", "")},
		obj("metrics", "where to read the system's truth",
			leaf("url", "string", "Prometheus-compatible base URL; --prometheus and GAMEDAY_PROMETHEUS_URL override it"),
			leaf("step", "duration", "query resolution (default 5s)"),
			leaf("poll", "duration", "how often new steps are fetched (default: step)"),
			leaf("timeout", "duration", "per-query timeout (default 10s)"),
			obj("auth", "how to authenticate to the server",
				leaf("username", "string", "basic auth user"),
				leaf("password_file", "string", "file holding the basic auth password"),
				leaf("bearer_token_file", "string", "file holding a bearer token"),
				&field{Name: "headers", Type: "map", Doc: "extra headers, e.g. X-Scope-OrgID", Elem: leaf("", "string", "")},
				obj("tls", "TLS settings",
					leaf("ca_file", "string", "CA bundle to verify the server"),
					leaf("cert_file", "string", "client certificate"),
					leaf("key_file", "string", "client key"),
					leaf("insecure_skip_verify", "bool", "skip server verification (only when you must)"),
				),
				obj("sigv4", "sign requests for Amazon Managed Prometheus",
					req(leaf("region", "string", "AWS region of the workspace")),
					leaf("profile", "string", "AWS profile to sign with"),
				),
			),
			&field{Name: "panels", Type: "map", Required: true, Doc: "charts by name ([a-z][a-z0-9_]*), in order", Elem: panel},
		),
		obj("baseline", "steady state measured before anything is injected",
			req(leaf("duration", "duration", "how long to measure")),
			thresholds("steady_state", "panel: threshold that must hold, or the run is blocked"),
		),
		obj("hypothesis", "what the team expects while attacks run",
			req(leaf("statement", "string", "the hypothesis in a sentence")),
			thresholds("expect", "panel: threshold over the attack window; may be relative to baseline"),
		),
		&field{Name: "guardrails", Type: "object", Doc: "stop conditions: `panel: threshold` trips an abort; plus metrics_blind",
			Fields: []*field{leaf("metrics_blind", "duration", "abort when no data has arrived for this long; during the baseline, block once the server has not answered for this long (30s when unset)")},
			Elem:   leaf("", "threshold", "")},
		&field{Name: "targets", Type: "map", Required: true, Doc: "where attacks land, by name", Elem: obj("", "exactly one of ssh or aws",
			obj("ssh", "hosts reached over SSH",
				&field{Name: "hosts", Type: "list", Required: true, Doc: "host names or ssh_config aliases", Elem: leaf("", "string", "")},
				leaf("user", "string", "login user"),
				leaf("port", "int", "SSH port"),
				leaf("sudo", "bool", "run attacks with sudo -n"),
				leaf("jump", "string", "ProxyJump host, e.g. bastion or user@bastion:22"),
				leaf("config", "string", "ssh_config file (default ~/.ssh/config)"),
			),
			obj("aws", "AWS resources of one type",
				req(leaf("region", "string", "AWS region")),
				&field{Name: "resource", Type: "string", Required: true, Enum: resourceTypes, Doc: "resource type"},
				&field{Name: "tags", Type: "map", Doc: "select by tag", Elem: leaf("", "string", "")},
				&field{Name: "filters", Type: "map", Doc: "API filters, name: [values]", Elem: &field{Type: "list", Elem: leaf("", "string", "")}},
				&field{Name: "ids", Type: "list", Doc: "select by id, name or ARN", Elem: leaf("", "string", "")},
				&field{Name: "accounts", Type: "list", Required: true, Doc: "the only accounts that may be touched", Elem: leaf("", "account", "")},
				leaf("endpoint", "string", "custom endpoint URL (the lab)"),
				leaf("profile", "string", "AWS profile"),
				leaf("max_members", "int", "most members the target may resolve to (default 50, and never more than half of the account's instances); setting it lifts both"),
				&field{Name: "engine", Type: "string", Enum: engines, Doc: "who carries out the attacks: gameday (default) or fis (an AWS FIS experiment that AWS ends on time)"},
				leaf("fis_role", "string", "IAM role ARN FIS assumes (engine: fis)"),
				&field{Name: "stop_alarms", Type: "list", Doc: "CloudWatch alarm ARNs that stop an FIS experiment (engine: fis)", Elem: leaf("", "string", "")},
			),
		)},
		&field{Name: "blast_radius", Type: "map", Required: true, Doc: "per attacked target: how much of it is hit", Elem: obj("", "exactly one of count, percent or all",
			leaf("count", "int", "this many members"),
			leaf("percent", "number", "this share of members, rounded up"),
			leaf("all", "bool", "every member"),
			leaf("max", "int", "never more than this many"),
			leaf("seed", "int", "seed for the random choice (recorded either way)"),
		)},
		&field{Name: "attacks", Type: "list", Required: true, Doc: "faults to inject", Elem: obj("", "",
			req(leaf("name", "string", "unique name")),
			req(leaf("target", "string", "a name from targets")),
			req(leaf("kind", "string", "attack kind; see docs/attacks.md")),
			&field{Name: "params", Type: "map", Doc: "kind parameters", Elem: leaf("", "string", "")},
			leaf("start_after", "duration", "delay after the run starts"),
			req(leaf("duration", "duration", "how long it stays injected")),
			leaf("allow_irreversible", "bool", "opt in to kinds that cannot be rolled back"),
			&field{Name: "engine", Type: "string", Enum: engines, Doc: "gameday or fis, for an aws target; default the target's"},
			stagesSchema(),
		)},
		obj("observe", "the watch period",
			leaf("duration", "duration", "default: until the last attack ends"),
		),
		obj("abort", "rollback on abort",
			leaf("timeout", "duration", "deadline to roll everything back (default 60s)"),
			&field{Name: "on_inject_failure", Type: "string", Enum: []string{OnInjectFailureAbort, OnInjectFailureContinue}, Doc: "abort (default): a failed inject aborts the run and rolls back the rest; continue: the run goes on and the verdict says how many injections applied"},
		),
		rolesSchema(),
		sloSchema(),
		drillSchema(),
		leaf("notes", "string", "free text for the team"),
		alertsSchema(),
	)
}

// Schema returns the JSON Schema (draft 2020-12) of the runbook format, for
// editors such as yaml-language-server.
func Schema() []byte {
	s := jsonSchema(schemaTree())
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["title"] = "gameday runbook"
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err) // the schema is built from static data; failing here is a bug
	}
	return append(b, '\n')
}

func jsonSchema(f *field) map[string]any {
	s := map[string]any{}
	if f.Doc != "" {
		s["description"] = f.Doc
	}
	switch f.Type {
	case "object":
		s["type"] = "object"
		props := map[string]any{}
		var required []string
		for _, c := range f.Fields {
			props[c.Name] = jsonSchema(c)
			if c.Required {
				required = append(required, c.Name)
			}
		}
		s["properties"] = props
		if required != nil {
			s["required"] = required
		}
		if f.Elem != nil {
			s["additionalProperties"] = jsonSchema(f.Elem)
		} else {
			s["additionalProperties"] = false
		}
	case "map":
		s["type"] = "object"
		s["additionalProperties"] = jsonSchema(f.Elem)
	case "list":
		s["type"] = "array"
		s["items"] = jsonSchema(f.Elem)
	case "duration":
		s["type"] = "string"
		s["pattern"] = `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	case "threshold":
		s["type"] = "string"
		s["pattern"] = `^\s*(<=|>=|<|>)`
	case "account":
		s["type"] = []string{"string", "integer"}
		s["pattern"] = `^[0-9]{12}$`
	case "int":
		s["type"] = "integer"
	case "number":
		s["type"] = "number"
	case "percent":
		s["type"] = []string{"string", "number"}
		s["pattern"] = `^[0-9]+(\.[0-9]+)?%$`
	case "bool":
		s["type"] = "boolean"
	default:
		s["type"] = "string"
	}
	if f.Enum != nil {
		s["enum"] = f.Enum
	}
	return s
}

// Reference renders the format as a Markdown table, one row per key path.
// docs/runbook.md embeds it; a test keeps the two equal.
func Reference() string {
	var b strings.Builder
	b.WriteString("| key | type | required | meaning |\n|---|---|---|---|\n")
	var walk func(prefix string, f *field)
	walk = func(prefix string, f *field) {
		for _, c := range f.Fields {
			path := prefix + c.Name
			typ := c.Type
			if c.Enum != nil {
				typ = "one of " + strings.Join(c.Enum, ", ")
			}
			r := ""
			if c.Required {
				r = "yes"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", path, typ, r, c.Doc)
			next := c
			sep := "."
			switch c.Type {
			case "map":
				sep = ".NAME."
				next = c.Elem
			case "list":
				sep = "[]."
				next = c.Elem
			}
			walk(path+sep, next)
		}
	}
	walk("", schemaTree())
	return b.String()
}

func alertsSchema() *field {
	return obj("alerts", "what the monitoring must say while the game day runs; see docs/alerting.md",
		leaf("alertmanager", "string", "Alertmanager base URL; checked before anything is injected"),
		&field{Name: "expect", Type: "list", Doc: "alerts that must fire; a miss refutes the hypothesis", Elem: obj("", "",
			req(leaf("name", "string", "alert name (the rule's alert:)")),
			&field{Name: "labels", Type: "map", Doc: "labels the alert must carry", Elem: leaf("", "string", "")},
			leaf("attack", "string", "start the clock at this attack's first inject (default: the run's first inject)"),
			req(leaf("fires_within", "duration", "the alert must be firing this long after the inject")),
			leaf("notified_within", "duration", "the notification must reach gameday's webhook (--alert-webhook) this long after the inject"),
			leaf("resolves_within", "duration", "the alert must resolve this long after the last rollback"),
		)},
		&field{Name: "forbid", Type: "list", Doc: "alerts that must not fire during the game day", Elem: obj("", "",
			leaf("name", "string", "alert name"),
			&field{Name: "labels", Type: "map", Doc: "labels, such as severity: page", Elem: leaf("", "string", "")},
		)},
	)
}

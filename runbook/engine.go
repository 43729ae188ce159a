package runbook

import (
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// engines are what engine: may say.
var engines = []string{EngineGameday, EngineFIS}

var (
	roleARN  = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
	alarmARN = regexp.MustCompile(`^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:[0-9]{12}:alarm:.+$`)
)

func (l *loader) engine(v *yaml.Node, what string) string {
	s := l.nonEmpty(v, what)
	if s != "" && !slices.Contains(engines, s) {
		l.errorf(v, "%s: expected one of %s, found %q", what, strings.Join(engines, ", "), s)
	}
	return s
}

// checkEngine settles who carries out attack a (its own engine, else its
// target's) and checks that FIS can: an aws target, a kind with an FIS
// action, no stages, and a role for FIS to assume. It returns EngineFIS or
// "" for gameday, so runs that do not use FIS journal what they always did.
func (l *loader) checkEngine(a Attack, what string, target Target, node *yaml.Node) string {
	engine, at := a.Engine, Pos{}
	if node != nil {
		at = pos(node)
	}
	if engine == "" && target.AWS != nil {
		engine, at = target.AWS.Engine, target.AWS.EnginePos
	}
	if engine != EngineFIS {
		return ""
	}
	if target.AWS == nil {
		l.errorAt(at, "%s: engine fis needs an aws target, but target %q is an %s target", what, target.Name, target.Family())
		return EngineFIS
	}
	if l.cat != nil {
		if info, ok := l.cat.Kind(a.Kind); ok && info.FIS == "" {
			var with []string
			for _, name := range l.cat.KindNames() {
				if k, _ := l.cat.Kind(name); k.FIS != "" {
					with = append(with, name)
				}
			}
			l.errorAt(at, "%s: kind %s has no FIS action; engine fis runs %s (use engine: gameday for this attack)", what, a.Kind, strings.Join(with, ", "))
		}
	}
	if len(a.Stages) > 0 {
		l.errorAt(at, "%s: engine fis cannot escalate in stages; an FIS experiment has one magnitude", what)
	}
	if target.AWS.FISRole == "" {
		l.errorAt(at, "%s: engine fis: target %q needs fis_role, the IAM role ARN FIS assumes (docs/aws.md gives its policy)", what, target.Name)
	}
	return EngineFIS
}

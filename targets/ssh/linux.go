package ssh

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gameday/gameday/targets"
)

// builder turns one injection's parsed params into the scripts for its kind.
type builder func(v targets.Values, n names, bound time.Duration) *attack

// linux is the catalogue of attacks on Linux hosts this executor carries
// out, by kind name. Params arrive parsed by the targets catalogue; every
// string that reaches a script goes through Quote.
var linux = map[string]builder{
	"cpu":             cpuAttack,
	"memory":          memoryAttack,
	"io":              ioAttack,
	"disk-fill":       diskFillAttack,
	"process-kill":    processKillAttack,
	"process-pause":   processPauseAttack,
	"service-stop":    serviceStopAttack,
	"network-latency": netemAttack("latency"),
	"network-loss":    netemAttack("loss"),
	"blackhole":       blackholeAttack,
	"dns-blackhole":   dnsBlackholeAttack,
	"clock-skew":      clockSkewAttack,
	"reboot":          powerAttack("reboot"),
	"shutdown":        powerAttack("poweroff"),
	"custom":          customAttack,
}

// Kinds lists the catalogue kinds this executor runs natively; lab-* kinds
// are passed to the lab's SSH server.
func Kinds() []string {
	out := make([]string, 0, len(linux))
	for k := range linux {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// detached starts argv as its own session with its pid in $D/$N.pid, so the
// SSH session can end and the revert can stop the whole process group. The
// pid comes back through the command substitution, as the switch's does.
func detached(argv ...string) string {
	q := make([]string, len(argv))
	for i, w := range argv {
		q[i] = Quote(w)
	}
	return `p=$(setsid sh -c 'echo $$; exec "$@" </dev/null >"$0" 2>&1' "$D/$N.log" ` + strings.Join(q, " ") + ` </dev/null 2>/dev/null &)
case $p in ''|*[!0-9]*) echo "gameday: ` + argv[0] + ` did not start"; exit 1 ;; esac
echo "$p" >"$D/$N.pid"
sleep 0.2
kill -0 "$p" 2>/dev/null || { echo "gameday: ` + argv[0] + ` exited at once:"; cat "$D/$N.log"; exit 1; }
`
}

// stopDetached ends what detached started: TERM to the group, up to five
// seconds to go, then KILL.
const stopDetached = `if [ -s "$D/$N.pid" ]; then
  read -r p <"$D/$N.pid" || p=
  case $p in ''|*[!0-9]*) ;; *)
    kill -s TERM -- "-$p" 2>/dev/null || true
    i=0
    while kill -s 0 -- "-$p" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i+1)); done
    kill -s KILL -- "-$p" 2>/dev/null || true
  ;; esac
  rm -f "$D/$N.pid"
fi
`

// detachedRunning holds while the process group detached started is alive.
const detachedRunning = `[ -s "$D/$N.pid" ] && read -r p <"$D/$N.pid" && kill -s 0 -- "-$p" 2>/dev/null
`

func secs(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10) + "s"
}

func cpuAttack(v targets.Values, n names, bound time.Duration) *attack {
	return stressAttack("", "--cpu", strconv.FormatInt(v.Int("workers"), 10),
		"--cpu-load", strconv.FormatFloat(v.Float("load"), 'f', 0, 64), "--timeout", secs(bound))
}

// stressAttack runs stress-ng with args, detached, until its timeout or
// the rollback stops it; check is what the host must pass first besides
// stress-ng's own dry run.
func stressAttack(check string, args ...string) *attack {
	argv := append([]string{"stress-ng"}, args...)
	return &attack{
		needs:  []string{"stress-ng"},
		check:  check + dryRun(argv),
		apply:  detached(argv...),
		revert: stopDetached,
		probe:  detachedRunning,
	}
}

func memoryAttack(v targets.Values, n names, bound time.Duration) *attack {
	amount := strconv.FormatInt(v.Bytes("size"), 10)
	if pct, ok := v.Percent("size"); ok {
		amount = strconv.FormatFloat(pct, 'f', -1, 64) + "%"
	}
	return stressAttack("", "--vm", "1", "--vm-bytes", amount, "--vm-keep", "--timeout", secs(bound))
}

func writableDir(dir string) string {
	return fmt.Sprintf("[ -d %[1]s ] && [ -w %[1]s ] || { echo \"gameday: %[2]s is not a writable directory\"; exit 1; }\n", Quote(dir), dir)
}

func ioAttack(v targets.Values, n names, bound time.Duration) *attack {
	dir := v.String("path")
	return stressAttack(writableDir(dir), "--hdd", strconv.FormatInt(v.Int("workers"), 10), "--temp-path", dir, "--timeout", secs(bound))
}

// fillFile is the one file a disk-fill creates, named after the run and the
// attack so the revert removes exactly it.
func fillFile(dir string, n names) string {
	return strings.TrimSuffix(dir, "/") + "/gameday-fill-" + n.run + "-" + n.item
}

func diskFillAttack(v targets.Values, n names, bound time.Duration) *attack {
	dir := v.String("path")
	file := fillFile(dir, n)
	// The guard is enforced here, on the host, where the file system's size
	// is known: the fill never takes it past max_fill, and an inject (or a
	// preflight) on a file system already that full refuses. df -P -k
	// reports 1 KiB blocks: total, used, free.
	limit := strconv.FormatFloat(v.Float("max_fill"), 'f', -1, 64)
	guard := fmt.Sprintf(`set -- $(df -P -k -- %s | awk 'NR==2 {print $2, $3, $4}')
room=$(awk -v t="$1" -v u="$2" -v m=%s 'BEGIN { n = t * m / 100 - u; if (n < 0) n = 0; printf "%%.0f", n * 1024 }')
[ "$room" -gt 0 ] || { echo "gameday: %s is already at least %s%% full (max_fill); nothing to fill"; exit 1; }
`, Quote(dir), limit, dir, limit)
	var size string
	if pct, ok := v.Percent("size"); ok {
		// Bring the file system to pct full: total*pct/100 minus what is
		// used now, never past what is free.
		p := strconv.FormatFloat(pct, 'f', -1, 64)
		size = fmt.Sprintf(`want=$(awk -v t="$1" -v u="$2" -v f="$3" -v p=%s 'BEGIN { n = t * p / 100 - u; if (n > f) n = f; if (n < 0) n = 0; printf "%%.0f", n * 1024 }')
[ "$want" -gt 0 ] || { echo "gameday: %s is already at least %s%% full"; exit 1; }
`, p, dir, p)
	} else {
		size = "want=" + strconv.FormatInt(v.Bytes("size"), 10) + "\n"
	}
	clamp := `[ "$want" -le "$room" ] || { echo "gameday: $want bytes would fill ` + dir + ` past ` + limit + `% (max_fill); taking $room"; want=$room; }
`
	check := writableDir(dir) + fallocateWorks(dir) + guard
	if _, ok := v.Percent("size"); !ok {
		check += fmt.Sprintf(`free=$(df -P -k -- %s | awk 'NR==2 {print $4}')
[ -z "$free" ] || [ $((free * 1024)) -ge %d ] || { echo "gameday: %s has only $((free / 1024)) MiB free, less than the %d bytes asked for"; exit 1; }
`, Quote(dir), v.Bytes("size"), dir, v.Bytes("size"))
	}
	return &attack{
		needs:  []string{"fallocate", "df", "awk"},
		check:  check,
		apply:  guard + size + clamp + "fallocate -l \"$want\" -- " + Quote(file) + "\necho \"gameday: allocated $want bytes in\" " + Quote(file) + "\n",
		revert: "rm -f -- " + Quote(file) + "\n",
		probe:  "[ -e " + Quote(file) + " ]\n",
	}
}

// victims returns a shell command that prints the pids of the processes a
// process-kill or -pause hits: every process of that exact name, or the pid
// in the pidfile (only if the file holds nothing but a number).
func victims(v targets.Values) string {
	if v.Has("name") {
		return "pgrep -x -- " + Quote(v.String("name"))
	}
	return "sed -n '1{/^[0-9][0-9]*$/p;}' -- " + Quote(v.String("pidfile"))
}

const needVictims = `pids=$(` + "%s" + `) || true
[ -n "$pids" ] || { echo "gameday: no matching process is running"; exit 1; }
`

func processKillAttack(v targets.Values, n names, bound time.Duration) *attack {
	find := fmt.Sprintf(needVictims, victims(v))
	sig := v.String("signal")
	return &attack{
		needs:      []string{"pgrep"},
		check:      find + canSignal,
		apply:      find + "kill -s " + sig + " $pids\necho \"gameday: sent SIG" + sig + " to\" $pids\n",
		noRollback: true,
	}
}

// processPauseAttack stops the processes and remembers their pids. The
// revert continues those pids and, in case the list was never written (a
// crash in between), every process the params match: CONT is harmless to a
// process that was not stopped.
func processPauseAttack(v targets.Values, n names, bound time.Duration) *attack {
	find := fmt.Sprintf(needVictims, victims(v))
	return &attack{
		needs: []string{"pgrep"},
		check: find + canSignal,
		apply: find + "echo $pids >\"$D/$N.pids\"\nkill -s STOP $pids\necho \"gameday: stopped\" $pids\n",
		revert: `if [ -s "$D/$N.pids" ]; then kill -s CONT $(cat "$D/$N.pids") 2>/dev/null || true; fi
pids=$(` + victims(v) + ` 2>/dev/null) || true
[ -z "$pids" ] || kill -s CONT $pids 2>/dev/null || true
`,
		heals: true, // a supervisor may continue or replace them
		// In place while any of the stopped pids is still stopped.
		probe: `[ -s "$D/$N.pids" ] || exit 1
for p in $(cat "$D/$N.pids"); do case $(ps -o stat= -p "$p" 2>/dev/null) in T*) exit 0 ;; esac; done
exit 1
`,
	}
}

// serviceStopAttack starts the unit again only if this attack stopped it:
// the marker is written before the stop, so a unit that was down before the
// game day stays down.
func serviceStopAttack(v targets.Values, n names, bound time.Duration) *attack {
	unit := v.String("unit")
	q := Quote(unit)
	active := "systemctl is-active --quiet -- " + q + " || { echo \"gameday: " + unit + " is not active\"; exit 1; }\n"
	return &attack{
		needs:  []string{"systemctl"},
		root:   true,
		check:  active + canStop(unit),
		apply:  active + ": >\"$D/$N.stopped\"\nsystemctl stop -- " + q + "\n",
		revert: "if [ -e \"$D/$N.stopped\" ]; then systemctl start -- " + q + "; fi\n",
		probe:  "[ -e \"$D/$N.stopped\" ] && ! systemctl is-active --quiet -- " + q + "\n",
		heals:  true, // Restart= or a dependency may start it again
	}
}

// handle is a tc qdisc handle owned by this injection, so the revert
// deletes the root qdisc only while it is still ours.
func (n names) handle(salt string) string {
	h := fnv.New32a()
	h.Write([]byte(salt + "/" + n.run + "/" + n.item))
	return fmt.Sprintf("%x", 0x1000+h.Sum32()%0xe000)
}

func netemAttack(mode string) builder {
	return func(v targets.Values, n names, bound time.Duration) *attack {
		dev := Quote(v.String("interface"))
		var netem string
		if mode == "latency" {
			netem = "delay " + strconv.FormatInt(v.Duration("delay").Microseconds(), 10) + "us"
			if j := v.Duration("jitter"); j > 0 {
				netem += " " + strconv.FormatInt(j.Microseconds(), 10) + "us"
			}
		} else {
			p, _ := v.Percent("percent")
			netem = "loss " + strconv.FormatFloat(p, 'f', -1, 64) + "%"
		}
		h := n.handle("root")
		spare := v.Bool("spare_control")
		var tcs []tcStep
		if !v.Has("destination") && !v.Has("port") && !spare {
			tcs = []tcStep{{`tc qdisc add dev "$d" root handle ` + h + ": netem " + netem, "sch_netem"}}
		} else {
			// A prio qdisc whose third band holds the netem, every packet
			// in its second band unless a filter picks it: the chosen
			// traffic (all of it without destination or port) goes to
			// the third; with spare_control, the control session to the
			// first, past the netem.
			proto, ipm := "all", "u32 0 0"
			if v.Has("destination") || v.Has("port") {
				proto, ipm = "ip", "ip"
				if v.Has("destination") && strings.Contains(v.String("destination"), ":") {
					proto, ipm = "ipv6", "ip6"
				}
			}
			match := " match " + ipm
			if v.Has("destination") || v.Has("port") {
				match = ""
			}
			if v.Has("destination") {
				match += " match " + ipm + " dst " + v.String("destination")
			}
			if v.Has("port") {
				match += " match " + ipm + " dport " + strconv.FormatInt(v.Int("port"), 10) + " 0xffff"
			}
			tcs = []tcStep{
				{`tc qdisc add dev "$d" root handle ` + h + ": prio bands 3 priomap 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "sch_prio"},
				{`tc qdisc add dev "$d" parent ` + h + ":3 handle " + n.handle("child") + ": netem " + netem, "sch_netem"},
				{`tc filter add dev "$d" parent ` + h + ": protocol " + proto + " prio 2 u32" + match + " flowid " + h + ":3", "cls_u32"},
			}
		}
		var apply string
		for _, s := range tcs {
			apply += strings.ReplaceAll(s.cmd, `"$d"`, dev) + "\n"
		}
		if spare {
			apply += spareTC(dev, h)
			tcs = append(tcs, spareProbeTC(h))
		}
		iface := v.String("interface")
		ours := "tc qdisc show dev " + dev + " 2>/dev/null | grep -q '^qdisc [a-z_]* " + h + ": root'"
		return &attack{
			needs:  []string{"tc"},
			root:   true,
			check:  "[ -e /sys/class/net/" + iface + " ] || { echo \"gameday: no network interface " + iface + "\"; exit 1; }\n" + reportSession + reportRoute + tcWorks(tcs),
			apply:  apply,
			revert: "if " + ours + "; then tc qdisc del dev " + dev + " root; fi\n",
			probe:  ours + "\n",
		}
	}
}

// firewall adds each rule once (a repeated inject finds it with -C) and the
// revert deletes every copy, up to a bound. A rule is its iptables spec
// without the verb, so inject and revert name exactly the same rule.
func firewall(tool string, specs []string) (apply, revert, probe string) {
	var checks []string
	for _, spec := range specs {
		apply += tool + " -w -C " + spec + " 2>/dev/null || " + tool + " -w -I " + spec + "\n"
		revert += "i=0; while [ \"$i\" -lt 32 ] && " + tool + " -w -D " + spec + " 2>/dev/null; do i=$((i+1)); done\n"
		checks = append(checks, tool+" -w -C "+spec+" 2>/dev/null")
	}
	return apply, revert, strings.Join(checks, " && ") + "\n"
}

func blackholeAttack(v targets.Values, n names, bound time.Duration) *attack {
	cidr := v.String("cidr")
	tool := "iptables"
	if strings.Contains(cidr, ":") {
		tool = "ip6tables"
	}
	match := ""
	if p := v.String("protocol"); p != "all" {
		match = " -p " + p
		if v.Has("port") {
			match += " --dport " + strconv.FormatInt(v.Int("port"), 10)
		}
	}
	tag := " -m comment --comment " + Quote(n.tag()) + " -j DROP"
	var specs []string
	dir := v.String("direction")
	if dir == "egress" || dir == "both" {
		specs = append(specs, "OUTPUT -d "+cidr+match+tag)
	}
	if dir == "ingress" || dir == "both" {
		specs = append(specs, "INPUT -s "+cidr+match+tag)
	}
	apply, revert, probe := firewall(tool, specs)
	bodies := make([]string, len(specs))
	for i, spec := range specs {
		_, bodies[i], _ = strings.Cut(spec, " ")
	}
	if v.Bool("spare_control") {
		// Inserted after the DROP rules, so ahead of them; reverted
		// after them, so the session is never left exposed.
		ctag := n.tag() + ":control"
		sa, sr := spareFirewall(tool, ctag)
		apply += sa
		revert += sr
		bodies = append(bodies, spareProbeRule(tool, ctag))
	}
	return &attack{needs: []string{tool}, root: true, check: reportSession + iptablesWorks(tool, bodies), apply: apply, revert: revert, probe: probe}
}

// dnsBlackholeAttack makes the domain resolve to an unroutable address
// through /etc/hosts, which the resolver reads before DNS on every common
// nsswitch setup. The lines carry the injection's tag; the revert rewrites
// the file in place without them (in place, not rename: /etc/hosts is often
// a bind mount in containers).
func dnsBlackholeAttack(v targets.Values, n names, bound time.Duration) *attack {
	domain := v.String("domain")
	tag := "# " + n.tag()
	lines := "0.0.0.0 " + domain + " " + tag + "\n:: " + domain + " " + tag + "\n"
	strip := `if grep -qF -- ` + Quote(tag) + ` /etc/hosts; then
  grep -vF -- ` + Quote(tag) + ` /etc/hosts >"$D/$N.hosts" || true
  cat "$D/$N.hosts" >/etc/hosts
fi
`
	return &attack{
		needs:  []string{"grep"},
		root:   true,
		check:  "[ -w /etc/hosts ] || { echo \"gameday: /etc/hosts is not writable\"; exit 1; }\n" + hostsFirst,
		apply:  strip + "printf '%s' " + Quote(lines) + " >>/etc/hosts\n",
		revert: strip,
		probe:  "grep -qF -- " + Quote(tag) + " /etc/hosts\n",
	}
}

// timeSyncUnits are the services that would put a skewed clock right; the
// skew stops the ones that are active and the revert starts them again.
var timeSyncUnits = []string{"systemd-timesyncd", "chrony", "chronyd", "ntp", "ntpd", "ntpsec", "openntpd"}

// skewSeconds is the offset in whole seconds, at least one either way:
// date -s takes whole seconds everywhere (GNU, busybox).
func skewSeconds(d time.Duration) int64 {
	s := d.Round(time.Second) / time.Second
	switch {
	case s == 0 && d > 0:
		return 1
	case s == 0:
		return -1
	}
	return int64(s)
}

// clockSkewAttack steps the clock by the offset after stopping time sync.
// The marker that says the clock was moved is written only once it has
// been, and claimed by an atomic rename before stepping back, so neither a
// failed inject nor two rollbacks at once (the switch firing as the console
// reverts) ever move the clock the wrong way; time sync, started again
// last, corrects what a crash in between could leave.
func clockSkewAttack(v targets.Values, n names, bound time.Duration) *attack {
	off := strconv.FormatInt(skewSeconds(v.Duration("offset")), 10)
	step := func(sign string) string {
		return "now=$(date +%s)\ndate -s \"@$((now " + sign + " " + off + "))\" >/dev/null\n"
	}
	return &attack{
		needs: []string{"date"},
		root:  true,
		check: canSetTime,
		apply: `: >"$D/$N.sync"
if command -v systemctl >/dev/null 2>&1; then
  for u in ` + strings.Join(timeSyncUnits, " ") + `; do
    if systemctl is-active --quiet "$u" 2>/dev/null; then echo "$u" >>"$D/$N.sync"; systemctl stop "$u"; fi
  done
fi
` + step("+") + `echo ` + off + ` >"$D/$N.skew"
echo "gameday: clock moved by ` + off + `s"
`,
		probe: `[ -e "$D/$N.skew" ]
`,
		revert: `if mv -f "$D/$N.skew" "$D/$N.unskew.$$" 2>/dev/null; then
` + indent(step("-")) + `fi
if [ -s "$D/$N.sync" ]; then
  while read -r u; do systemctl start "$u" || echo "gameday: could not start $u again"; done <"$D/$N.sync"
fi
`,
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n  ") + "\n"
}

// powerAttack reboots or powers off after the inject has reported back, so
// the result reaches the journal before the link goes.
func powerAttack(verb string) builder {
	return func(v targets.Values, n names, bound time.Duration) *attack {
		return &attack{
			needs: []string{"systemctl"},
			root:  true,
			apply: "setsid sh -c 'sleep 2; systemctl " + verb + " || " + verb + "' </dev/null >/dev/null 2>&1 &\necho \"gameday: " +
				verb + " in 2s\"\n",
			noRollback: true,
		}
	}
}

// customAttack runs the runbook's own commands as written: they are the
// runbook author's shell, not values from elsewhere, and the catalogue has
// already refused control and invisible characters in them. They get the
// same state directory, switch and sudo as built-in kinds.
func customAttack(v targets.Values, n names, bound time.Duration) *attack {
	return &attack{apply: targets.Expand(v.String("inject"), v, Quote), revert: targets.Expand(v.String("rollback"), v, Quote)}
}

// labAttack serves the lab-* kinds. The lab's SSH server is not a shell:
// it understands the kind name without its "lab-" prefix followed by one
// --key=value word per param, in name order, then --duration=D; and the same
// name followed by --rollback to revert. Each word is quoted all the same,
// so the lab can be swapped for a shell without changing what arrives. The
// lab server keeps its own bound, so no switch is armed here.
func labAttack(kind string, params map[string]string, d time.Duration) (*attack, error) {
	name := strings.TrimPrefix(kind, "lab-")
	if !labKey.MatchString(name) {
		return nil, fmt.Errorf("%s: %q is not a lab command name", kind, name)
	}
	cmd := []string{Quote(name)}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := checkArg(k, params[k]); err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		if !labKey.MatchString(k) {
			return nil, fmt.Errorf("%s: param name %q is not a lowercase word", kind, k)
		}
		cmd = append(cmd, Quote("--"+k+"="+params[k]))
	}
	cmd = append(cmd, Quote("--duration="+d.String()))
	// A killed lab process restarts on its own before the fault's time:
	// the lab's answer, like a supervisor's, not a fault taken away.
	return &attack{apply: strings.Join(cmd, " "), revert: Quote(name) + " --rollback", labStatus: Quote(name) + " --status",
		heals: name == "process-kill"}, nil
}

var labKey = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)

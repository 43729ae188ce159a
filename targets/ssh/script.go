package ssh

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/gameday/gameday/targets"
)

// attack is what one kind contributes to the scripts run on a host. The
// executor wraps it with the state directory, privilege checks and the dead
// man's switch, so each kind only says what is special about it.
type attack struct {
	needs []string // programs preflight looks for with command -v
	root  bool     // needs uid 0 (directly or through sudo: true)
	check string   // extra read-only preflight checks; exit non-zero with a message
	apply string   // the fault, run after the switch is armed, under set -e
	// revert undoes apply and must be idempotent: it runs on a host where
	// apply may have run fully, partly, or never, and may run twice.
	revert string
	// probe exits 0 while the fault is in place and non-zero once it is
	// not; read-only. Empty: the kind cannot tell (custom, irreversible).
	probe string
	// noRollback marks faults that cannot be undone (reboot, a signal sent);
	// no switch is armed and Rollback only tidies the state directory.
	noRollback bool
	// heals marks faults the system under test may end itself by design
	// (a supervisor starts the unit again, continues the process): a
	// rollback that finds one gone is seeing the system's answer, not a
	// fault taken away.
	heals bool
	// labStatus is, for lab kinds, the lab command that says whether the
	// fault is active (the lab host has no shell to run a probe).
	labStatus string
}

// names locates an injection's state on the host. The state directory is
// derived from the run id only, and the file prefix from the attack's name, so
// a rollback built from the journal finds what the inject left.
type names struct {
	run  string // safe form of RunID
	item string // safe form of the attack name, plus a hash of the exact name
}

func namesFor(inj targets.Injection) names {
	h := fnv.New32a()
	h.Write([]byte(inj.Attack))
	return names{
		run:  slug(inj.RunID, 64),
		item: fmt.Sprintf("%s-%08x", slug(inj.Attack, 48), h.Sum32()),
	}
}

// tag is the label put on firewall rules and the like so the rollback
// deletes exactly what this injection added.
func (n names) tag() string { return "gameday:" + n.run + ":" + n.item }

// slug keeps the characters that are safe in a file name and in a shell
// word without quoting, so paths in scripts and in ps stay readable.
func slug(s string, limit int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= limit {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 || strings.Trim(b.String(), ".") == "" {
		return "x" + b.String()
	}
	return b.String()
}

// prelude sets D (the run's state directory) and N (this attack's file
// prefix). Root keeps state in /run, which a reboot empties; other users in
// their home, which nobody else can write to. Only root can write /run, and
// test -w is a builtin where id -u would cost a process on every step.
func prelude(n names) string {
	return `set -u
if [ -w /run ]; then B=/run/gameday; else B="$HOME/.gameday"; fi
D="$B"/` + n.run + `
N=` + n.item + `
`
}

// cancelTimer stops the dead man's switch, if one is still waiting; it is
// finished by cancelQuietly or cancelSaying. The timer
// is a session leader, so its pid is also the process group of its sleep.
// The pid file is emptied before the kill, so a rollback cut short and run
// again never signals a group whose number has since been reused. Only
// builtins: this runs on every rollback of every host.
const cancelTimer = `if [ -s "$D/$N.timer" ]; then
  read -r t <"$D/$N.timer" || t=
  : >"$D/$N.timer"
  case $t in ''|*[!0-9]*) ;; *) kill -s TERM -- "-$t" 2>/dev/null || true ;; esac
`

// cancelQuietly is cancelTimer for an inject replacing its own switch.
const cancelQuietly = cancelTimer + "fi\n"

// cancelSaying is cancelTimer for a rollback: it says which it did, so a
// rollback cut short afterwards can tell whether the switch is still there
// to revert the fault (see SwitchFate).
const cancelSaying = cancelTimer + `  echo "gameday: ` + switchCancelled + `"
else
  echo "gameday: ` + noSwitch + `"
fi
`

// What cancelSaying prints.
const (
	switchCancelled = "dead man's switch cancelled"
	noSwitch        = "no dead man's switch waiting"
)

// What a rollback found before it reverted.
const (
	faultInPlace = "the fault was in place"
	faultGone    = "the fault was no longer in place"
)

// SwitchFate says what became of an injection's dead man's switch when its
// rollback stopped short (timed out, lost its link), from what the host
// printed before it stopped: whether the switch will still revert the fault,
// and when, or whether nothing on the host will.
func SwitchFate(out string, inj targets.Injection) string {
	switch {
	case strings.Contains(out, switchCancelled):
		return "the rollback had cancelled the dead man's switch, so nothing on the host will revert it: run gameday recover again, or revert it by hand"
	case strings.Contains(out, noSwitch):
		return "no dead man's switch was waiting (it had already fired, or was never armed), so nothing on the host will revert it: run gameday recover again, or revert it by hand"
	}
	at := "at its deadline (the attack's duration plus grace after the inject)"
	if t := inj.State["switch_at"]; t != "" {
		at = "at " + t
	}
	return "the rollback stopped before it cancelled the dead man's switch, as far as the host's output shows: the switch still reverts it " + at
}

// rollbackScript is the whole rollback: cancel the switch, revert, forget.
// It is also what the switch itself runs when it fires.
func rollbackScript(n names, a *attack) string {
	var b strings.Builder
	b.WriteString(prelude(n))
	b.WriteString(awaitDelivery)
	b.WriteString(cancelSaying)
	if a.probe != "" && !a.heals {
		// Whether the fault was still there when its rollback came: a
		// verdict over a window the fault was gone for must say so.
		writeProbe(&b, a.probe, faultInPlace, faultGone)
	}
	if a.revert != "" {
		b.WriteString(a.revert)
		if !strings.HasSuffix(a.revert, "\n") {
			b.WriteByte('\n')
		}
	}
	// One rm takes the files and the directory if that leaves it empty
	// (GNU rm -d; another attack's files keep it). Where rm has no -d
	// (busybox) it removed nothing, the claim or the timer file is still
	// there, and the files and directory go in two steps. Every process
	// counts here: this runs on every host of every rollback.
	b.WriteString(`rm -fd -- "$D/$N".* "$D" 2>/dev/null
if [ -e "$D/$N.once" ] || [ -e "$D/$N.timer" ]; then
  rm -f -- "$D/$N".*
  rmdir "$D" 2>/dev/null
fi
echo "gameday: reverted"
`)
	return b.String()
}

// injectScript arms the switch, then applies the fault; if applying fails
// half-way it reverts at once and exits non-zero, so a failed inject leaves
// nothing behind.
func injectScript(n names, a *attack, bound time.Duration) string {
	var b strings.Builder
	b.WriteString(prelude(n))
	if !a.noRollback {
		b.WriteString(`umask 077
mkdir -p "$D" || { echo "gameday: cannot create state directory $D"; exit 1; }
`)
		b.WriteString(claimDelivery)
		secs := int64((bound + time.Second - 1) / time.Second)
		// The timer prints its own pid (setsid may or may not fork, so $!
		// is not reliable) and closes the pipe, which is what the command
		// substitution waits for: the pid is known as soon as the timer
		// runs, without polling. It then sleeps, empties its pid file so
		// the rollback it runs does not kill itself, and runs the rollback.
		// It is detached from the SSH session: no stdio, its own session,
		// so a dropped or killed client leaves it running.
		fmt.Fprintf(&b, `R=%s
%sT=$(setsid sh -c 'echo $$; exec >/dev/null 2>&1; sleep "$2"; : >"$1"; exec sh -c "$3"' gameday-switch "$D/$N.timer" %d "$R" </dev/null 2>/dev/null &)
case $T in ''|*[!0-9]*) echo reverting >"$D/$N.once"; echo "gameday: the dead man's switch did not start; nothing was injected"; exit 1 ;; esac
echo "$T" >"$D/$N.timer"
`, Quote(rollbackScript(n, a)), cancelQuietly, secs)
	}
	// The acknowledgement: the switch is armed (its bound in seconds, 0
	// for none) and the fault comes next. Under gameday's shell the script
	// then waits for the go-ahead on fd 3, so gameday has the line before
	// the fault can cut the link; elsewhere (SSM) it goes straight on.
	sw := int64(0)
	if !a.noRollback {
		sw = int64((bound + time.Second - 1) / time.Second)
	}
	fmt.Fprintf(&b, "echo \"%sswitch=%ds\"\n", ackPrefix, sw)
	b.WriteString("if [ -n \"${GAMEDAY_ACK:-}\" ] && ! read -r _ <&3; then\n  echo \"gameday: no go-ahead from gameday; nothing applied\"\n")
	if !a.noRollback {
		b.WriteString(reverting)
	}
	b.WriteString("  exit 1\nfi\n")
	// Not "if ! ( ... )": set -e is ignored inside an if condition.
	b.WriteString("(\nset -e\n")
	b.WriteString(a.apply)
	if !strings.HasSuffix(a.apply, "\n") {
		b.WriteByte('\n')
	}
	b.WriteString(")\nst=$?\nif [ \"$st\" -ne 0 ]; then\n")
	if !a.noRollback {
		b.WriteString("  echo \"gameday: inject failed, reverting\"\n" + reverting)
	}
	b.WriteString("  exit $st\nfi\n")
	if !a.noRollback {
		b.WriteString("echo applied >\"$D/$N.once\"\n")
	}
	b.WriteString("echo \"gameday: injected\"\n")
	return b.String()
}

// A delivery is one run of an inject script on a host. Over SSH there is
// one per inject, but Run Command can deliver the same inject twice: the
// SDK sends SendCommand again when a connection drops under its answer,
// and SSM runs both commands. Applied twice, a fault that refuses to stack
// (a second qdisc, a second rule) fails and reverts the first one's fault
// while the command gameday follows says "injected", and one that stacks
// (a second stress) outlives its rollback. So the first delivery claims
// the injection in $N.once ("running PID", then "applied"); another one
// waits for it and reports its outcome without applying anything. The
// rollback removes the claim with the rest of the state, so a re-inject
// after a rollback (a stage's new magnitude) applies again. The claim
// names the process running the script, read from /proc/self by a builtin:
// $$ would name gameday's long-lived shell over SSH, which outlives every
// script it runs. Builtins only but for the sleep of a wait, which only a
// second delivery pays.
const claimDelivery = `read -r me _ 2>/dev/null </proc/self/stat || me=$$
set -C
if echo "running $me" 2>/dev/null >"$D/$N.once"; then
  set +C
else
  set +C
  i=0
  while :; do
    s= p=
    if [ -e "$D/$N.once" ]; then read -r s p <"$D/$N.once" || :; else s=gone; fi
    case $s in
    applied) echo "gameday: an earlier delivery of this same inject applied it; not applied twice"
      echo "gameday: injected"
      exit 0 ;;
    gone|reverting) echo "gameday: an earlier delivery of this same inject failed or was rolled back; not applied again"
      exit 1 ;;
    esac
    if [ "$s" = running ] && ! kill -s 0 "$p" 2>/dev/null; then
      break
    fi
    if [ "$i" -ge 30 ]; then
      echo "gameday: an earlier delivery of this same inject is still running after 30s; not applied twice"
      exit 1
    fi
    i=$((i + 1))
    sleep 1
  done
  echo "running $me" >"$D/$N.once"
fi
`

// reverting is how an inject script undoes what it armed: it marks its
// claim first, so the rollback it runs does not wait for the delivery
// that is running it (see awaitDelivery).
const reverting = "  echo reverting >\"$D/$N.once\"\n  sh -c \"$R\" >/dev/null 2>&1\n"

// awaitDelivery holds a rollback while a delivery of the inject is still
// applying it on the host (a Run Command inject gameday stopped following,
// or a second delivery it never knew of), up to 30 s, so the fault cannot
// land after the rollback has reverted it. A delivery that died half-way
// has nothing left to wait for.
const awaitDelivery = `i=0
while [ "$i" -lt 30 ] && [ -s "$D/$N.once" ]; do
  s= p=
  read -r s p <"$D/$N.once" || :
  [ "$s" = running ] && kill -s 0 "$p" 2>/dev/null || break
  i=$((i + 1))
  sleep 1
done
`

// statusScript reports, read-only, whether the switch is still armed and
// whether the fault is still in place, one "gameday:" line each.
func statusScript(n names, a *attack) string {
	var b strings.Builder
	b.WriteString(prelude(n))
	b.WriteString(`t=
if [ -s "$D/$N.timer" ]; then read -r t <"$D/$N.timer" || t=; fi
case $t in ''|*[!0-9]*) echo "gameday: switch not armed" ;; *)
  if kill -s 0 -- "-$t" 2>/dev/null; then echo "gameday: switch armed (pid $t)"; else echo "gameday: switch not armed"; fi ;;
esac
`)
	if a.probe == "" {
		b.WriteString("echo \"gameday: cannot tell whether the fault is in place\"\n")
		return b.String()
	}
	writeProbe(&b, a.probe, "in place", "not in place")
	return b.String()
}

// writeProbe runs probe in a subshell and prints one "gameday:" line,
// yes when it says the fault is in place, no otherwise.
func writeProbe(b *strings.Builder, probe, yes, no string) {
	fmt.Fprintf(b, "if (\n%s) >/dev/null 2>&1\nthen echo \"gameday: %s\"\nelse echo \"gameday: %s\"\nfi\n", probe, yes, no)
}

// preflightScript checks privileges, the tools and the kind's own
// conditions in one session, and changes nothing. The first line it prints
// proves the shell (and sudo) got that far.
func preflightScript(a *attack, sudo bool) string {
	var b strings.Builder
	b.WriteString("echo gameday-preflight\nfail=0\n")
	needs := append([]string{"setsid", "sleep"}, a.needs...)
	for _, p := range needs {
		fmt.Fprintf(&b, "command -v %s >/dev/null 2>&1 || { echo \"gameday: %s is not installed\"; fail=1; }\n", Quote(p), p)
	}
	if a.root {
		hint := "set sudo: true on the target"
		if sudo {
			hint = "sudo did not make us root"
		}
		fmt.Fprintf(&b, "[ \"$(id -u)\" = 0 ] || { echo \"gameday: needs root (%s)\"; fail=1; }\n", hint)
	}
	if a.check != "" {
		b.WriteString("if ! (\n")
		b.WriteString(a.check)
		if !strings.HasSuffix(a.check, "\n") {
			b.WriteByte('\n')
		}
		b.WriteString(")\nthen fail=1; fi\n")
	}
	b.WriteString("exit $fail\n")
	return b.String()
}

// wrap turns a script into the command line sent in the exec request:
// through sudo -n (never a prompt: a password requirement is an error) when
// the target asks for it, and always through sh, whatever the login shell.
func wrap(script string, sudo bool) string {
	cmd := "sh -c " + Quote(script)
	if sudo {
		return "sudo -n -- " + cmd
	}
	return cmd
}

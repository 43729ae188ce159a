package ssh

import (
	"fmt"
	"strings"
)

// Preflight checks that prove a tool works, not only that it is installed.
// A tool can be there and still fail at inject time: a kernel without
// sch_netem, an iptables whose kernel lacks the comment match, a file
// system without fallocate. Each check does what the inject will do, on
// something the attack does not touch (a scratch network namespace, a
// scratch chain, a scratch file), and undoes it at once; a failure names
// the missing piece and how to get it.

// tcStep is one tc command of an inject, with the kernel module it needs.
// cmd names the device "$d".
type tcStep struct {
	cmd    string
	module string
}

// kernelHint says how to load a missing kernel module (load, a shell
// word) and where it usually comes from.
func kernelHint(load string) string {
	return load + "; it usually comes with the kernel's extra modules package (linux-modules-extra-$(uname -r) on Ubuntu, kernel-modules-extra on Fedora and RHEL); in a container it must be loaded on the machine that runs it"
}

// tcWorks builds the qdiscs and filters of steps in a scratch network
// namespace (unshare -n), or where unshare is missing on a scratch dummy
// link removed at once, so the interface under attack is never touched.
func tcWorks(steps []tcStep) string {
	var t strings.Builder
	t.WriteString("d=$1\n")
	for _, s := range steps {
		fmt.Fprintf(&t, "e=$(%s 2>&1) || { echo %s \"$e\"; exit 1; }\n", s.cmd, s.module)
	}
	probe := Quote(t.String())
	return `command -v tc >/dev/null 2>&1 || exit 1
if unshare -n true 2>/dev/null; then
  r=$(unshare -n sh -c ` + probe + ` sh lo 2>&1)
elif ip link add gameday-pf$$ type dummy 2>/dev/null; then
  r=$(sh -c ` + probe + ` sh gameday-pf$$ 2>&1)
  ip link del gameday-pf$$ 2>/dev/null
else
  echo "gameday: cannot try tc safely: neither unshare -n (util-linux) nor a dummy link (kernel module dummy) works here"
  exit 1
fi
[ -z "$r" ] && exit 0
m=${r%% *}
e=$(printf '%s' "${r#* }" | tr '\n' ' ')
echo "gameday: the kernel cannot do what tc needs here: $m is missing (tc said: $e); ` + kernelHint("load it with modprobe $m") + `"
exit 1
`
}

// iptablesWorks adds rules of the shapes the inject uses to a scratch
// chain in a scratch network namespace (unshare -n), or where unshare is
// missing to a scratch chain of the host's filter table, removed at once.
// A rule is its iptables spec without the chain.
func iptablesWorks(tool string, rules []string) string {
	var t strings.Builder
	t.WriteString("c=$1\n")
	fmt.Fprintf(&t, "e=$(%s -w -N \"$c\" 2>&1) || { echo \"cannot create a chain: $e\"; exit 1; }\n", tool)
	for _, r := range rules {
		fmt.Fprintf(&t, "e=$(%s -w -A \"$c\" %s 2>&1) || { echo %s: \"$e\"; exit 1; }\n", tool, r, Quote(r))
	}
	probe := Quote(t.String())
	return `command -v ` + tool + ` >/dev/null 2>&1 || exit 1
if unshare -n true 2>/dev/null; then
  r=$(unshare -n sh -c ` + probe + ` sh gameday-pf 2>&1)
else
  r=$(sh -c ` + probe + ` sh gameday-pf$$ 2>&1)
  ` + tool + ` -w -F gameday-pf$$ 2>/dev/null; ` + tool + ` -w -X gameday-pf$$ 2>/dev/null
fi
[ -z "$r" ] && exit 0
echo "gameday: ` + tool + ` refuses a rule this attack adds: $(printf '%s' "$r" | tr '\n' ' '); the kernel may lack a netfilter module (nf_tables or ip_tables, xt_comment for -m comment, xt_tcpudp for ports); ` + kernelHint("load the module with modprobe") + `"
exit 1
`
}

// dryRun has stress-ng parse the exact command line the inject runs, so an
// option this version does not know (an old stress-ng and a percentage
// size) fails preflight, not the inject.
func dryRun(argv []string) string {
	q := make([]string, len(argv))
	for i, w := range argv {
		q[i] = Quote(w)
	}
	return `command -v ` + Quote(argv[0]) + ` >/dev/null 2>&1 || exit 1
e=$(` + strings.Join(q, " ") + ` --dry-run 2>&1) || { echo "gameday: ` + argv[0] + ` refuses the command line the inject runs: $(printf '%s' "$e" | tail -n 2 | tr '\n' ' ')"; exit 1; }
`
}

// fallocateWorks creates and removes a small scratch file in dir: some file
// systems (NFSv3, older ZFS) cannot allocate without writing.
func fallocateWorks(dir string) string {
	f := Quote(strings.TrimSuffix(dir, "/")+"/.gameday-preflight-") + "$$"
	return `command -v fallocate >/dev/null 2>&1 || exit 1
e=$(fallocate -l 4096 -- ` + f + ` 2>&1); st=$?
rm -f -- ` + f + `
[ "$st" -eq 0 ] || { echo "gameday: fallocate does not work on the file system of ` + dir + `: $e"; exit 1; }
`
}

// canSignal checks that the processes found in $pids may be signalled by
// the user the steps run as.
const canSignal = `kill -s 0 $pids 2>/dev/null || { echo "gameday: not allowed to signal the matching processes ($pids); set sudo: true on the target or connect as their owner"; exit 1; }
`

// canStop checks that systemd lets the unit be stopped (RefuseManualStop).
func canStop(unit string) string {
	return `[ "$(systemctl show -p CanStop --value -- ` + Quote(unit) + ` 2>/dev/null)" != no ] || { echo "gameday: systemd refuses to stop ` + unit + ` by hand (RefuseManualStop)"; exit 1; }
`
}

// hostsFirst checks that name lookups read /etc/hosts at all, or the
// dns-blackhole lines would change nothing.
const hostsFirst = `if [ -r /etc/nsswitch.conf ] && grep -q '^hosts:' /etc/nsswitch.conf && ! grep '^hosts:' /etc/nsswitch.conf | grep -qw files; then
  echo "gameday: /etc/nsswitch.conf does not list files for hosts, so /etc/hosts is not read: $(grep '^hosts:' /etc/nsswitch.conf)"; exit 1
fi
`

// canSetTime checks CAP_SYS_TIME (bit 25), which root in a container
// usually lacks: date -s would then fail at inject time.
const canSetTime = `c=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status 2>/dev/null)
if [ -n "$c" ] && [ $(( (0x$c >> 25) & 1 )) -eq 0 ]; then
  echo "gameday: not allowed to set the clock (no CAP_SYS_TIME; in a container, the runtime must grant it)"; exit 1
fi
`

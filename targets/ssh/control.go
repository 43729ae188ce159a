package ssh

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gameday/gameday/targets"
)

// The control path: gameday's own SSH session to a host. A network fault
// that covers it would leave gameday blind to the host it is attacking,
// unable to watch or revert it until the dead man's switch fires. So by
// default the session is spared, as agent-based tools exempt their control
// plane: the fault's rules let the one established connection through.
// spare_control: false cuts it on purpose.
//
// The session is the one $SSH_CONNECTION describes on the host ("client
// port server port"): the controller, or the last ProxyJump hop, as the
// host sees it. The rules are written at inject time into the state
// directory, so the revert (and the switch) remove exactly them.

// spareFirewall returns the apply and revert lines that let the control
// session through ahead of the fault's DROP rules. Only a session of the
// tool's address family can be hit, so only that one is spared.
func spareFirewall(tool, tag string) (apply, revert string) {
	family := `case "$1" in *:*) [ ` + tool + ` = ip6tables ] ;; *) [ ` + tool + ` = iptables ] ;; esac`
	rule := `$ch $spec -m comment --comment ` + Quote(tag) + ` -j ACCEPT`
	apply = `set -- ${SSH_CONNECTION:-}
if [ $# -eq 4 ] && ` + family + `; then
  printf 'INPUT -p tcp -s %s --sport %s -d %s --dport %s\nOUTPUT -p tcp -s %s --sport %s -d %s --dport %s\n' "$1" "$2" "$3" "$4" "$3" "$4" "$1" "$2" >"$D/$N.spare"
  while read -r ch spec; do ` + tool + ` -w -C ` + rule + ` 2>/dev/null || ` + tool + ` -w -I ` + rule + `; done <"$D/$N.spare"
  echo "gameday: control session $1:$2 spared"
elif [ $# -ne 4 ]; then
  echo "` + noSession + `"
fi
`
	revert = `if [ -s "$D/$N.spare" ]; then
  while read -r ch spec; do i=0; while [ "$i" -lt 32 ] && ` + tool + ` -w -D ` + rule + ` 2>/dev/null; do i=$((i+1)); done; done <"$D/$N.spare"
fi
`
	return apply, revert
}

// spareProbeRule is a rule of the shape spareFirewall adds, for preflight.
func spareProbeRule(tool, tag string) string {
	a, b := "192.0.2.1", "192.0.2.2"
	if tool == "ip6tables" {
		a, b = "2001:db8::1", "2001:db8::2"
	}
	return "-p tcp -s " + a + " --sport 40000 -d " + b + " --dport 22 -m comment --comment " + Quote(tag) + " -j ACCEPT"
}

// spareTC returns the line that sends the control session's packets to
// the prio qdisc's first band, past the netem in its third.
func spareTC(dev, h string) string {
	return `set -- ${SSH_CONNECTION:-}
if [ $# -eq 4 ]; then
  case "$1" in *:*) p=ipv6 m=ip6 l=128 ;; *) p=ip m=ip l=32 ;; esac
  tc filter add dev ` + dev + ` parent ` + h + `: protocol $p prio 1 u32 match $m src "$3/$l" match $m sport "$4" 0xffff match $m dst "$1/$l" match $m dport "$2" 0xffff flowid ` + h + `:1
  echo "gameday: control session $1:$2 spared"
else
  echo "` + noSession + `"
fi
`
}

// noSession is said when the session cannot be spared because the step
// does not know it: sudo's env_reset drops SSH_CONNECTION unless sudoers
// keeps it.
const noSession = "gameday: SSH_CONNECTION is not set here, so gameday's own session is not spared; with sudo, add Defaults env_keep += SSH_CONNECTION to sudoers"

// spareProbeTC is a filter of the shape spareTC adds, for preflight.
func spareProbeTC(h string) tcStep {
	return tcStep{`tc filter add dev "$d" parent ` + h + `: protocol ip prio 1 u32 match ip src 192.0.2.2/32 match ip sport 22 0xffff match ip dst 192.0.2.1/32 match ip dport 40000 0xffff flowid ` + h + `:1`, "cls_u32"}
}

// Preflight lines that tell gameday the control session as the host sees
// it, and the interface the host reaches the client through.
const (
	sessionPrefix = "gameday-session "
	routePrefix   = "gameday-route "
	reportSession = `echo "` + sessionPrefix + `${SSH_CONNECTION:-}"
`
	reportRoute = `set -- ${SSH_CONNECTION:-}
[ $# -eq 4 ] && command -v ip >/dev/null 2>&1 && echo "` + routePrefix + `$(ip -o route get "$1" 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p')"
true
`
)

// session is $SSH_CONNECTION parsed.
type session struct {
	client     netip.Addr
	clientPort int
	server     netip.Addr
	serverPort int
}

func parseSession(s string) (session, bool) {
	f := strings.Fields(s)
	if len(f) != 4 {
		return session{}, false
	}
	c, err1 := netip.ParseAddr(f[0])
	sv, err2 := netip.ParseAddr(f[2])
	cp, err3 := strconv.Atoi(f[1])
	sp, err4 := strconv.Atoi(f[3])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return session{}, false
	}
	return session{c.Unmap(), cp, sv.Unmap(), sp}, true
}

// controlCut says in words how inj's fault would cut the control session
// s, or "" when it would not. route is the interface the host reaches the
// client through ("" when unknown).
func controlCut(kind string, v targets.Values, s session, route string) string {
	switch kind {
	case "blackhole":
		p, err := netip.ParsePrefix(v.String("cidr"))
		if err != nil || !p.Contains(s.client) {
			return ""
		}
		if proto := v.String("protocol"); proto == "udp" {
			return ""
		}
		dir, port := v.String("direction"), int(v.Int("port"))
		egress := (dir == "egress" || dir == "both") && (!v.Has("port") || port == s.clientPort)
		ingress := (dir == "ingress" || dir == "both") && (!v.Has("port") || port == s.serverPort)
		if !egress && !ingress {
			return ""
		}
		return fmt.Sprintf("the blackhole of %s covers gameday's address as the host sees it (%s)", p, s.client)
	case "network-latency", "network-loss":
		if route == "" || route != v.String("interface") {
			return ""
		}
		if v.Has("destination") {
			if p, err := netip.ParsePrefix(v.String("destination")); err != nil || !p.Contains(s.client) {
				return ""
			}
		}
		if v.Has("port") && int(v.Int("port")) != s.clientPort {
			return ""
		}
		return fmt.Sprintf("%s carries gameday's session (to %s)", route, s.client)
	}
	return ""
}

// controlNote is what --dry-run says about the control path of inj, in
// words; "" when the attack leaves it alone.
func controlNote(inj targets.Injection, v targets.Values, bound time.Duration) string {
	host := inj.Member.ID
	switch inj.Kind {
	case "blackhole", "network-latency", "network-loss":
		if v.Bool("spare_control") {
			return ""
		}
		return fmt.Sprintf("ssh %s: spare_control is false: if this fault covers gameday's own SSH session, gameday loses %s from the inject until its dead man's switch ends the fault, %s later (duration %s plus grace %s)",
			host, host, bound, inj.Duration, bound-inj.Duration)
	case "reboot", "shutdown":
		return fmt.Sprintf("ssh %s: gameday loses %s when it goes down; nothing reverts a %s", host, host, inj.Kind)
	case "service-stop":
		if u := v.String("unit"); u == "ssh.service" || u == "sshd.service" || u == "ssh.socket" || u == "sshd.socket" {
			return fmt.Sprintf("ssh %s: stopping %s stops new SSH connections: gameday keeps its open session, but cannot reconnect to %s until the rollback or its dead man's switch (%s after the inject) starts it again", host, u, host, bound)
		}
	case "process-kill", "process-pause":
		if n := v.String("name"); n == "sshd" || n == "sshd-session" {
			return fmt.Sprintf("ssh %s: hitting %s may end or freeze gameday's own session; gameday then loses %s until its dead man's switch fires or the host is reached again", host, n, host)
		}
	}
	return ""
}

// Warnings says, before the blast radius is confirmed, when an injection
// will cut or may end gameday's own link to the host (targets.Warner).
func (e *Executor) Warnings(inj targets.Injection) []string {
	kind, ok := e.cat.Spec(inj.Kind)
	if !ok {
		return nil
	}
	v, probs := kind.Parse(inj.Params)
	if len(probs) > 0 {
		return nil
	}
	if note := controlNote(inj, v, inj.Duration+e.opts.Grace); note != "" {
		return []string{note}
	}
	return nil
}

// Package ssh runs attacks on Linux hosts over SSH. It is the executor for
// runbook targets of the ssh family.
//
// Connections use golang.org/x/crypto/ssh with ssh_config (HostName, User,
// Port, IdentityFile, ProxyJump, ConnectTimeout), ssh-agent and key files.
// Host keys are always checked against known_hosts: an unknown host is
// refused unless Options.AcceptNewHostKeys is set, and a changed key is
// always refused with both fingerprints. Each host gets one connection and
// one long-lived sh for the whole game day, shared by preflight, inject,
// status and rollback, each step a script run in a subshell of it, so the
// cost on the host is one handshake and one session however many steps
// there are. Run, and the lab-* kinds, use a session of their own per
// command, as ssh HOST CMD does.
//
// Every value a runbook gives an attack is typed and checked first; string
// values reach the host only through Quote, as single literal arguments.
//
// Every inject arms a dead man's switch before it applies the fault: a
// detached timer process on the host (setsid, its pid in a state directory
// named after the run) that runs the rollback at duration plus grace. A
// normal rollback cancels the timer, then reverts. Rollback scripts are
// derived from the journalled injection alone, so recovery after a crash
// needs nothing that only the dead console knew.
//
// How a runbook target reaches the executor: Resolver turns an
// runbook.SSHTarget into targets.Member values whose Addr is the host:port to
// dial and whose Labels carry the target's settings ("user", "port", "sudo",
// "jump", "config"). The executor reads only the Member, so a journalled
// injection is enough to reconnect and roll back.
package ssh

// Command sshdrive drives the SSH executor (targets/ssh) against many
// loopback hosts for bench/ssh-compare.sh: it times preflight, inject and
// rollback of one light attack on every host, connections included, and an
// abort (rollback on hosts already connected); it prints the exact command
// lines so other tools can run the same three steps; and it makes only
// handshakes, or only sessions, so the script can measure what each costs
// the SSH server.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gameday/gameday/bench/sshsink/sink"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/ssh"
)

type config struct {
	hosts, port, rounds, perHost int
	user, key, knownHosts        string
	deadline                     time.Duration
	cpuOf                        []int
}

func main() {
	var c config
	mode := flag.String("mode", "steps", "steps | commands | handshakes | sessions")
	flag.IntVar(&c.hosts, "hosts", 100, "hosts: N consecutive loopback addresses from 127.0.0.1")
	flag.IntVar(&c.port, "port", 2222, "SSH port on every host")
	flag.IntVar(&c.rounds, "rounds", 5, "rounds to time (steps mode); the median is reported")
	flag.IntVar(&c.perHost, "per-host", 3, "sessions per host (sessions mode)")
	flag.StringVar(&c.user, "user", "root", "remote user")
	flag.DurationVar(&c.deadline, "deadline", 5*time.Minute, "bound on one step on one host (a host whose rc files queue on a lock can take minutes)")
	flag.StringVar(&c.key, "key", "", "private key file")
	flag.StringVar(&c.knownHosts, "known-hosts", "", "known_hosts file")
	out := flag.String("out", ".", "directory for preflight.cmd, inject.cmd and rollback.cmd (commands mode)")
	pids := flag.String("cpu-of", "", "comma-separated pids (the sshd listeners) whose CPU, children included, is reported per step")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memProfile := flag.String("memprofile", "", "write a heap profile at the end of the run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatalf("sshdrive: %v", err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		defer func() {
			f, err := os.Create(*memProfile)
			if err != nil {
				log.Fatalf("sshdrive: %v", err)
			}
			pprof.WriteHeapProfile(f)
			f.Close()
		}()
	}
	for _, p := range strings.Split(*pids, ",") {
		if p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			log.Fatalf("sshdrive: -cpu-of: %q is not a pid", p)
		}
		c.cpuOf = append(c.cpuOf, n)
	}
	var err error
	switch *mode {
	case "steps":
		err = steps(c)
	case "commands":
		err = commands(c, *out)
	case "handshakes":
		err = connectOnly(c, 0)
	case "sessions":
		err = connectOnly(c, c.perHost)
	default:
		err = fmt.Errorf("-mode %q: expected steps, commands, handshakes or sessions", *mode)
	}
	if err != nil {
		pprof.StopCPUProfile()
		log.Fatalf("sshdrive: %v", err)
	}
}

func (c config) executor() *ssh.Executor {
	return ssh.New(ssh.Options{
		SSHConfig:     "/nonexistent-sshdrive-config",
		KnownHosts:    c.knownHosts,
		IdentityFiles: []string{c.key},
		AgentSocket:   "-",
		Fanout:        c.hosts,
		Grace:         5 * time.Second,
		HostDeadline:  c.deadline,
	})
}

// injections is one light attack per host: a custom attack whose own
// commands do nothing, so the steps cost what the executor adds (the
// state directory, the dead man's switch and its cancellation). Each host
// gets its own attack name: the addresses are one machine, and distinct
// names keep their state files apart.
func (c config) injections(run string) []targets.Injection {
	out := make([]targets.Injection, c.hosts)
	addrs := sink.Loopback(c.hosts, c.port)
	for i := range out {
		m := targets.Member{Target: "bench", ID: fmt.Sprintf("h%03d", i+1), Addr: addrs[i],
			Labels: map[string]string{ssh.LabelUser: c.user}}
		out[i] = targets.Injection{RunID: run, Attack: "light " + m.ID, Kind: "custom", Member: m,
			Params: map[string]string{"inject": "true", "rollback": "true"}, Duration: 10 * time.Second}
	}
	return out
}

// each runs f on every injection at once and returns the wall time and the
// first error.
func each(injs []targets.Injection, f func(*targets.Injection) error) (time.Duration, error) {
	start := time.Now()
	errs := make([]error, len(injs))
	var wg sync.WaitGroup
	for i := range injs {
		wg.Go(func() { errs[i] = f(&injs[i]) })
	}
	wg.Wait()
	d := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return d, err
		}
	}
	return d, nil
}

func steps(c config) error {
	ctx := context.Background()
	var pre, inj, rb, total, abort, cpu, own []time.Duration
	var handshakes, sessions int
	for r := range c.rounds {
		e := c.executor()
		injs := c.injections("bench" + strconv.Itoa(r))
		cpu0, own0 := cpuTicks(c.cpuOf), selfCPU()
		d1, err := each(injs, func(i *targets.Injection) error { return e.Preflight(ctx, *i) })
		if err != nil {
			return fmt.Errorf("preflight: %w", err)
		}
		d2, err := each(injs, func(i *targets.Injection) error { _, err := e.Inject(ctx, i); return err })
		if err != nil {
			return fmt.Errorf("inject: %w", err)
		}
		d3, err := each(injs, func(i *targets.Injection) error { _, err := e.Rollback(ctx, *i); return err })
		if err != nil {
			return fmt.Errorf("rollback: %w", err)
		}
		handshakes, sessions = e.Handshakes(), e.Sessions()
		mine := selfCPU() - own0
		if os.Getenv("SSHDRIVE_MEMSTATS") != "" {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			fmt.Fprintf(os.Stderr, "connected: heap-inuse %dMB stack-inuse %dMB sys %dMB goroutines %d\n", m.HeapInuse>>20, m.StackInuse>>20, m.Sys>>20, runtime.NumGoroutine())
		}
		e.Close()
		var used time.Duration
		if len(c.cpuOf) > 0 {
			// The server reaps a connection's processes once the client
			// has closed it; their CPU reaches the listener only then.
			time.Sleep(time.Second)
			used = cpuTicks(c.cpuOf) - cpu0
		}

		// Abort: the fault is in place on hosts already connected.
		e = c.executor()
		injs = c.injections("abort" + strconv.Itoa(r))
		if _, err := each(injs, func(i *targets.Injection) error { _, err := e.Inject(ctx, i); return err }); err != nil {
			return fmt.Errorf("inject before abort: %w", err)
		}
		d4, err := each(injs, func(i *targets.Injection) error { _, err := e.Rollback(ctx, *i); return err })
		if err != nil {
			return fmt.Errorf("abort: %w", err)
		}
		e.Close()
		if len(c.cpuOf) > 0 {
			time.Sleep(time.Second) // reaped before the next round counts
		}

		fmt.Printf("round %d: preflight %s inject %s rollback %s total %s abort %s handshakes %d sessions %d client-cpu %s",
			r+1, ms(d1), ms(d2), ms(d3), ms(d1+d2+d3), ms(d4), handshakes, sessions, ms(mine))
		if len(c.cpuOf) > 0 {
			fmt.Printf(" server-cpu %s", ms(used))
		}
		fmt.Println()
		pre, inj, rb, total, abort, cpu = append(pre, d1), append(inj, d2), append(rb, d3), append(total, d1+d2+d3), append(abort, d4), append(cpu, used)
		own = append(own, mine)
	}
	fmt.Printf("median: preflight %s inject %s rollback %s total %s abort %s handshakes %d sessions %d peak-rss %s client-cpu %s",
		ms(median(pre)), ms(median(inj)), ms(median(rb)), ms(median(total)), ms(median(abort)), handshakes, sessions, peakRSS(), ms(median(own)))
	if len(c.cpuOf) > 0 {
		fmt.Printf(" server-cpu %s", ms(median(cpu)))
	}
	fmt.Println()
	return nil
}

// commands writes the command line of each step for the first host; the
// other tools send these same lines to every host.
func commands(c config, dir string) error {
	inj := c.injections("bench")[0]
	inj.Attack = "light"
	e := c.executor()
	defer e.Close()
	for _, line := range e.Plan(inj) {
		_, rest, ok := strings.Cut(line, " "+inj.Member.ID+" ")
		step, cmd, ok2 := strings.Cut(rest, ": ")
		if !ok || !ok2 {
			return fmt.Errorf("unexpected plan line %q", line)
		}
		if err := os.WriteFile(filepath.Join(dir, step+".cmd"), []byte(cmd), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// connectOnly dials every host and runs perHost trivial sessions on each,
// then closes, and reports the server CPU it took.
func connectOnly(c config, perHost int) error {
	ctx := context.Background()
	e := c.executor()
	injs := c.injections("probe")
	cpu0 := cpuTicks(c.cpuOf)
	d, err := each(injs, func(i *targets.Injection) error {
		if _, err := e.Run(ctx, i.Member, ""); err != nil {
			return err
		}
		for range perHost {
			if _, err := e.Run(ctx, i.Member, "true"); err != nil {
				return err
			}
		}
		return nil
	})
	e.Close()
	if err != nil {
		return err
	}
	// The server reaps a connection's processes after the client closes;
	// their CPU reaches the listener's counters only then.
	time.Sleep(time.Second)
	fmt.Printf("hosts %d sessions-per-host %d wall %s server-cpu %s\n", c.hosts, perHost, ms(d), ms(cpuTicks(c.cpuOf)-cpu0))
	return nil
}

// cpuTicks sums user and system time of pids and their reaped children,
// as /proc/PID/stat reports them, as a duration (USER_HZ is 100 on Linux).
func cpuTicks(pids []int) time.Duration {
	var total int64
	for _, p := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
		if err != nil {
			log.Fatalf("sshdrive: -cpu-of %d: %v", p, err)
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		// Fields after the name: state is 0, utime 11, stime 12, cutime 13, cstime 14.
		for _, i := range []int{11, 12, 13, 14} {
			n, _ := strconv.ParseInt(f[i], 10, 64)
			total += n
		}
	}
	return time.Duration(total) * 10 * time.Millisecond
}

// selfCPU is the CPU this process has used (user and system): the
// client's share of the cores the hosts also run on.
func selfCPU() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var total int64
	for _, i := range []int{11, 12} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		total += n
	}
	return time.Duration(total) * 10 * time.Millisecond
}

// peakRSS is this process's peak resident memory (VmHWM): the client's,
// since the hosts are served by another process.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return fmt.Sprintf("%dMB", kb>>10)
		}
	}
	return "unknown"
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }

package fleet

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gameday/gameday/targets"
)

// Fault is one fault active on an instance, as status reports it.
type Fault struct {
	Name   string            // the lab command: latency, errors, cpu, ...
	Params map[string]string // canonical values, defaults applied
	Until  time.Time         // when it expires on its own
	// RestartAt is when a killed process comes back (process-kill only).
	RestartAt time.Time
}

type activeFault struct {
	Fault
	v       targets.Values
	expiry  *time.Timer
	restart *time.Timer
	stop    chan struct{} // cpu: ends the burner; blackhole: lifts it
}

// Faults lists the active faults, sorted by name.
func (in *Instance) Faults() []Fault {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]Fault, 0, len(in.faults))
	for _, name := range slices.Sorted(maps.Keys(in.faults)) {
		f := in.faults[name].Fault
		f.Params = maps.Clone(f.Params)
		out = append(out, f)
	}
	return out
}

// Apply starts a fault for d. The same fault applied again replaces the
// first, with the new params and a new expiry. v must come from the lab kind
// named "lab-"+name in the catalogue.
func (in *Instance) Apply(name string, v targets.Values, d time.Duration) (Fault, error) {
	if d <= 0 {
		return Fault{}, fmt.Errorf("%s: %s needs a duration, the fault's own expiry", in.name, name)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed || !in.powered {
		return Fault{}, fmt.Errorf("%s: the host is stopped", in.name)
	}
	in.revertLocked(name)
	delete(in.resetAt, name)
	now := time.Now()
	f := &activeFault{Fault: Fault{Name: name, Params: v.Canonical(), Until: now.Add(d)}, v: v}
	switch name {
	case "cpu":
		f.stop = make(chan struct{})
		duty := v.Float("load") / 100 * in.cfg.BurnCap
		in.wg.Go(func() {
			burn(f.stop, duty)
		})
	case "blackhole":
		f.stop = make(chan struct{})
	case "process-kill":
		after := v.Duration("restart_after")
		f.RestartAt = now.Add(after)
		in.crashed = true
		in.stopLocked()
		f.restart = in.afterFunc(after, func() { in.end(name, f) })
	case "latency", "errors", "dependency-latency":
	default:
		return Fault{}, fmt.Errorf("%s: no lab fault named %q", in.name, name)
	}
	f.expiry = in.afterFunc(d, func() { in.end(name, f) })
	in.faults[name] = f
	in.updateEffectsLocked()
	out := f.Fault
	out.Params = maps.Clone(out.Params)
	return out, nil
}

// Rollback ends the named fault now. It reports whether one was active;
// rolling back what is not there succeeds, so it is safe to repeat.
func (in *Instance) Rollback(name string) (bool, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	was := in.revertLocked(name)
	in.updateEffectsLocked()
	return was, in.restartLocked()
}

// ResetAt is when reset ended the fault name, if it did and the fault was
// not applied again since.
func (in *Instance) ResetAt(name string) (time.Time, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	at, ok := in.resetAt[name]
	return at, ok
}

// Reset ends every fault and reports which were active.
func (in *Instance) Reset() ([]string, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	names := slices.Sorted(maps.Keys(in.faults))
	if in.resetAt == nil {
		in.resetAt = map[string]time.Time{}
	}
	for _, n := range names {
		in.revertLocked(n)
		in.resetAt[n] = time.Now()
	}
	in.updateEffectsLocked()
	return names, in.restartLocked()
}

// end is a fault's expiry (or a killed process's restart): it ends f only if
// f is still the active fault of that name, not a newer one.
func (in *Instance) end(name string, f *activeFault) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed || in.faults[name] != f {
		return
	}
	in.revertLocked(name)
	in.updateEffectsLocked()
	in.restartLocked()
}

// afterFunc runs fn after d unless the instance closes first; Close waits
// for a callback already running.
func (in *Instance) afterFunc(d time.Duration, fn func()) *time.Timer {
	return time.AfterFunc(d, func() {
		if !in.enter() {
			return
		}
		defer in.wg.Done()
		fn()
	})
}

// revertLocked undoes one fault, without restarting the process: callers
// decide that, since a host being stopped must stay down.
func (in *Instance) revertLocked(name string) bool {
	f, ok := in.faults[name]
	if !ok {
		return false
	}
	delete(in.faults, name)
	f.expiry.Stop()
	if f.restart != nil {
		f.restart.Stop()
	}
	if f.stop != nil {
		close(f.stop)
	}
	if name == "process-kill" {
		in.crashed = false
	}
	return true
}

// cpuSlowdown is how much longer the service's own work takes on a host
// whose CPU is busy at load percent: the run queue makes it wait.
func cpuSlowdown(load float64) float64 { return 1 / (1 - 0.75*load/100) }

func (in *Instance) updateEffectsLocked() {
	fx := &effects{cpuFactor: 1}
	if f := in.faults["latency"]; f != nil {
		fx.delay, fx.jitter, fx.delayShare = f.v.Duration("delay"), f.v.Duration("jitter"), f.v.Ratio("share")
	}
	if f := in.faults["errors"]; f != nil {
		fx.errShare, fx.errStatus = f.v.Ratio("share"), int(f.v.Int("status"))
	}
	if f := in.faults["cpu"]; f != nil {
		fx.cpuFactor = cpuSlowdown(f.v.Float("load"))
	}
	if f := in.faults["dependency-latency"]; f != nil {
		fx.depDelay = f.v.Duration("delay")
	}
	if f := in.faults["blackhole"]; f != nil {
		fx.blackhole = f.stop
	}
	in.fx.Store(fx)
}

// burn keeps a core busy for duty of every period until stop closes: real
// CPU the host's tools can see, bounded by the lab's cap.
func burn(stop <-chan struct{}, duty float64) {
	const period = 50 * time.Millisecond
	busy := time.Duration(duty * float64(period))
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		for end := time.Now().Add(busy); time.Now().Before(end); {
		}
		t.Reset(period - busy)
	}
}

package ssh

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// watchers are the checks that follow injected faults between their inject
// and their rollback (Options.Ended).
type watchers struct {
	mu      sync.Mutex
	life    context.Context
	stop    context.CancelFunc
	running map[string]context.CancelFunc
	wg      sync.WaitGroup
}

func watchKey(inj targets.Injection) string {
	return strings.Join([]string{inj.RunID, inj.Attack, inj.Member.Target, inj.Member.ID, strconv.Itoa(inj.Stage)}, "\x00")
}

// watch checks every Options.WatchEvery, from a landed inject until its
// rollback begins or the executor closes, that inj's fault is still in
// place, and tells Options.Ended the first time it is not: something other
// than gameday ended it (a person, a remediation job, a reboot, a lab
// host's reset). Only kinds that can tell are watched; not those the system
// under test ends by design, nor a fault whose link it cut.
func (e *Executor) watch(inj targets.Injection) {
	if e.opts.Ended == nil {
		return
	}
	a, _, err := e.build(inj)
	if err != nil || a.probe == "" && a.labStatus == "" || a.heals || a.noRollback {
		return
	}
	key := watchKey(inj)
	w := &e.watchers
	w.mu.Lock()
	if w.life == nil {
		w.life, w.stop = context.WithCancel(context.Background())
		w.running = map[string]context.CancelFunc{}
	}
	ctx, cancel := context.WithCancel(w.life)
	if old := w.running[key]; old != nil {
		old()
	}
	w.running[key] = cancel
	defer w.mu.Unlock() // counted before stopWatching can wait
	w.wg.Go(func() {
		defer cancel()
		targets.Every(ctx, e.opts.WatchEvery, func() bool {
			sctx, done := context.WithTimeout(ctx, e.opts.HostDeadline)
			st, err := e.Status(sctx, inj)
			done()
			if ctx.Err() != nil || err != nil || !st.Known || st.InPlace {
				return ctx.Err() != nil // a host that does not answer now proves nothing
			}
			by := "something other than gameday ended it"
			if strings.Contains(st.Output, targets.LabResetByHand) {
				by = targets.LabResetByHand
			}
			e.opts.Ended(inj, fmt.Sprintf("the fault was no longer in place at %s UTC (gameday checks every %s): %s",
				time.Now().UTC().Format("15:04:05"), runbook.FormatDuration(e.opts.WatchEvery), by))
			return true
		})
	})
}

// unwatch stops following inj, as its rollback takes over.
func (e *Executor) unwatch(inj targets.Injection) {
	w := &e.watchers
	w.mu.Lock()
	defer w.mu.Unlock()
	key := watchKey(inj)
	if c := w.running[key]; c != nil {
		c()
		delete(w.running, key)
	}
}

// stopWatching ends every watch and waits for them.
func (e *Executor) stopWatching() {
	w := &e.watchers
	w.mu.Lock()
	if w.stop != nil {
		w.stop()
	}
	w.mu.Unlock()
	w.wg.Wait()
}

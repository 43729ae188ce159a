package aws

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Batching: the engine calls the executor once per member, but AWS takes
// many resources per call, and at fleet scale per-member calls would run
// into the API's rate limits (EC2 refills its mutating-call bucket at a few
// calls a second) and exhaust the retryer's quota. So calls of the same
// kind that arrive within a short window are sent as one, with up to limit
// ids, and each member gets its own share of the answer.

// batchKey groups calls that can share one request: the same clients, the
// same operation, the same arguments apart from the ids.
type batchKey struct {
	s    *session
	op   string
	args string
}

// batchResult is one id's share of a batched call.
type batchResult struct {
	out string
	v   any // what else the call learnt about the id
	err error
}

// batchFunc makes the call for ids (without duplicates) and returns every
// id's result.
type batchFunc func(ctx context.Context, ids []string) map[string]batchResult

type batcher struct {
	window time.Duration
	wait   time.Duration // bounds a batched call; callers' contexts only stop their waiting
	mu     sync.Mutex
	open   map[batchKey]*batch
}

type batch struct {
	once  sync.Once
	fired bool // under batcher.mu: its ids are chosen, a caller can no longer leave
	ids   []string
	ctxs  []context.Context
	done  chan struct{}
	out   map[string]batchResult
}

// do adds id to the open batch of key, or opens one, and waits for its
// result. A caller whose context ends before the batch is sent is left out
// of it, so an abort stops what has not been asked of AWS yet; one whose
// context ends after still gets the answer of the call made for it.
func (b *batcher) do(ctx context.Context, key batchKey, limit int, id string, run batchFunc) batchResult {
	b.mu.Lock()
	if b.open == nil {
		b.open = map[batchKey]*batch{}
	}
	bt := b.open[key]
	if bt == nil {
		bt = &batch{done: make(chan struct{})}
		b.open[key] = bt
		time.AfterFunc(b.window, func() { b.fire(key, bt, run) })
	}
	bt.ids = append(bt.ids, id)
	bt.ctxs = append(bt.ctxs, ctx)
	full := len(bt.ids) >= limit
	if full {
		delete(b.open, key)
	}
	b.mu.Unlock()
	if full {
		go b.fire(key, bt, run)
	}
	select {
	case <-bt.done:
		r, ok := bt.out[id]
		if !ok {
			// Left out: the caller's context ended before the call was made.
			return batchResult{err: context.Cause(ctx)}
		}
		return r
	case <-ctx.Done():
		b.mu.Lock()
		fired := bt.fired
		b.mu.Unlock()
		if !fired {
			// fire will see the ended context and leave id out.
			return batchResult{err: ctx.Err()}
		}
		// The call may already carry id: what it did must reach the
		// caller (a command id to cancel, an instance that did stop), so
		// wait for it; the batch's own bound ends the wait.
		<-bt.done
		if r, ok := bt.out[id]; ok {
			return r
		}
		return batchResult{err: ctx.Err()}
	}
}

func (b *batcher) fire(key batchKey, bt *batch, run batchFunc) {
	bt.once.Do(func() {
		b.mu.Lock()
		if b.open[key] == bt {
			delete(b.open, key)
		}
		bt.fired = true
		var ids []string
		var parent context.Context
		for i, c := range bt.ctxs {
			if c.Err() == nil && !slices.Contains(ids, bt.ids[i]) {
				ids = append(ids, bt.ids[i])
				if parent == nil {
					parent = c
				}
			}
		}
		b.mu.Unlock()
		if len(ids) > 0 {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), b.wait)
			bt.out = run(ctx, ids)
			cancel()
		}
		close(bt.done)
	})
}

// each runs one(id) for every id, a few at a time: the fallback when a
// batched call failed for a reason that may belong to only some ids.
func each(ids []string, one func(id string) batchResult) map[string]batchResult {
	out := make(map[string]batchResult, len(ids))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r := one(id)
			mu.Lock()
			out[id] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// all gives every id the same result.
func all(ids []string, r batchResult) map[string]batchResult {
	out := make(map[string]batchResult, len(ids))
	for _, id := range ids {
		out[id] = r
	}
	return out
}

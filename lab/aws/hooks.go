package aws

import "sync"

// hookQueue delivers instance state changes to Hooks.InstanceState one at a
// time, in the order they happened, without holding the server's lock or
// making an API call wait for the lab to stop a host.
type hookQueue struct {
	fn      func(id, state string)
	mu      sync.Mutex
	pending []stateChange
	wake    chan struct{}
	done    chan struct{}
	stop    chan struct{}
}

type stateChange struct{ id, state string }

func newHookQueue(fn func(id, state string)) *hookQueue {
	q := &hookQueue{fn: fn, wake: make(chan struct{}, 1), done: make(chan struct{}), stop: make(chan struct{})}
	if fn == nil {
		close(q.done)
		return q
	}
	go q.run()
	return q
}

func (q *hookQueue) push(id, state string) {
	if q.fn == nil {
		return
	}
	q.mu.Lock()
	q.pending = append(q.pending, stateChange{id, state})
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *hookQueue) run() {
	defer close(q.done)
	for {
		q.mu.Lock()
		batch := q.pending
		q.pending = nil
		q.mu.Unlock()
		for _, ch := range batch {
			q.fn(ch.id, ch.state)
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-q.wake:
		case <-q.stop:
			q.mu.Lock()
			batch = q.pending
			q.pending = nil
			q.mu.Unlock()
			for _, ch := range batch {
				q.fn(ch.id, ch.state)
			}
			return
		}
	}
}

// close delivers what is already queued, then stops.
func (q *hookQueue) close() {
	if q.fn != nil {
		select {
		case <-q.stop:
		default:
			close(q.stop)
		}
	}
	<-q.done
}

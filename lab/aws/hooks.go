package aws

import "sync"

// hookQueue delivers state changes to the lab's hooks one at a time, in the
// order they happened, without holding the server's lock or making an API
// call wait for the lab to stop a host.
type hookQueue struct {
	mu      sync.Mutex
	pending []func()
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

func newHookQueue() *hookQueue {
	q := &hookQueue{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go q.run()
	return q
}

func (q *hookQueue) push(fn func()) {
	q.mu.Lock()
	q.pending = append(q.pending, fn)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// drain runs what is queued and reports whether there was anything.
func (q *hookQueue) drain() bool {
	q.mu.Lock()
	batch := q.pending
	q.pending = nil
	q.mu.Unlock()
	for _, fn := range batch {
		fn()
	}
	return len(batch) > 0
}

func (q *hookQueue) run() {
	defer close(q.done)
	for {
		if q.drain() {
			continue
		}
		select {
		case <-q.wake:
		case <-q.stop:
			q.drain()
			return
		}
	}
}

// close delivers what is already queued, then stops.
func (q *hookQueue) close() {
	q.once.Do(func() { close(q.stop) })
	<-q.done
}

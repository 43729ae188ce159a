package serve

import (
	"io"
	"sync"
)

// FrameWriter sits between a session's console and a terminal that may be
// slow or gone. Write never blocks: bytes queue up to a limit and one
// goroutine drains them. Past the limit the queue is dropped whole (frames
// are lost, the console's state is not) and Dropped fires once the terminal
// has caught up, so the console can repaint the full screen.
type FrameWriter struct {
	w     io.Writer
	limit int

	mu      sync.Mutex
	cond    *sync.Cond
	buf     []byte
	spare   []byte
	closed  bool
	dropped bool
	drops   int
	onDrop  func()
	done    chan struct{}
}

// NewFrameWriter starts draining into w.
func NewFrameWriter(w io.Writer, limit int) *FrameWriter {
	f := &FrameWriter{w: w, limit: limit, done: make(chan struct{})}
	f.cond = sync.NewCond(&f.mu)
	go f.drain()
	return f
}

// OnDrop sets what to call after frames were dropped and the queue is empty
// again; a console uses it to ask for a full repaint.
func (f *FrameWriter) OnDrop(fn func()) {
	f.mu.Lock()
	f.onDrop = fn
	f.mu.Unlock()
}

// Drops counts how many times the queue was dropped.
func (f *FrameWriter) Drops() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.drops
}

// Write queues p. It fails only after Close.
func (f *FrameWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, io.ErrClosedPipe
	}
	if len(f.buf)+len(p) > f.limit {
		f.buf = f.buf[:0]
		f.dropped = true
		f.drops++
	}
	if len(p) <= f.limit {
		f.buf = append(f.buf, p...)
	}
	f.cond.Signal()
	return len(p), nil
}

// Close stops the drain after what is queued has been written (or the
// terminal has failed) and waits for it.
func (f *FrameWriter) Close() error {
	f.mu.Lock()
	f.closed = true
	f.cond.Signal()
	f.mu.Unlock()
	<-f.done
	return nil
}

func (f *FrameWriter) drain() {
	defer close(f.done)
	for {
		f.mu.Lock()
		for len(f.buf) == 0 && !f.closed {
			if f.dropped && f.onDrop != nil {
				f.dropped = false
				fn := f.onDrop
				f.mu.Unlock()
				fn()
				f.mu.Lock()
				continue
			}
			f.cond.Wait()
		}
		if len(f.buf) == 0 && f.closed {
			f.mu.Unlock()
			return
		}
		out := f.buf
		f.buf, f.spare = f.spare[:0], nil
		f.mu.Unlock()
		_, err := f.w.Write(out)
		f.mu.Lock()
		f.spare = out
		if err != nil {
			f.closed = true
			f.buf = f.buf[:0]
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
	}
}

package gamedays

import (
	"sort"
	"sync"
	"time"
)

// Clock is the engine's only source of time, so tests can drive it.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// WallClock returns the real clock.
func WallClock() Clock { return realClock{} }

// ManualClock is a Clock that moves only when told, for deterministic tests.
type ManualClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewManualClock starts a manual clock at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After fires when the clock has been advanced by d.
func (c *ManualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	return ch
}

// Waiters is how many timers are pending, so a test can wait until the code
// under test is blocked on the clock before advancing it.
func (c *ManualClock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// Settled reports whether the code under test is parked on the clock: a
// timer is pending and their count stays put over twenty looks 20µs apart,
// so advancing now does not race a goroutine that is about to wait.
func (c *ManualClock) Settled() bool {
	n := c.Waiters()
	if n == 0 {
		return false
	}
	for range 20 {
		time.Sleep(20 * time.Microsecond)
		if c.Waiters() != n {
			return false
		}
	}
	return true
}

// Advance moves the clock forward and fires every timer that falls due.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	sort.Slice(c.waiters, func(i, j int) bool { return c.waiters[i].at.Before(c.waiters[j].at) })
	kept := c.waiters[:0]
	var due []waiter
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			due = append(due, w)
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
	now := c.now
	c.mu.Unlock()
	for _, w := range due {
		w.ch <- now
	}
}

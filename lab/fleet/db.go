package fleet

import (
	"context"
	"errors"
	"time"
)

// errPoolTimeout is a query that never got a connection: the pool was busy
// with slower queries for longer than the service is willing to wait.
var errPoolTimeout = errors.New("database: no free connection")

// database is the dependency each checkout instance calls: a small
// connection pool in front of a store whose queries take time. A slow
// database fills the pool, and the queueing, not the delay alone, is what
// the service's users feel, as with a real one.
type database struct {
	slots   chan struct{}
	acquire time.Duration
}

func newDatabase(poolSize int, acquire time.Duration) *database {
	return &database{slots: make(chan struct{}, poolSize), acquire: acquire}
}

// query holds a pooled connection for d.
func (db *database) query(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(db.acquire)
	select {
	case db.slots <- struct{}{}:
		t.Stop()
	case <-t.C:
		return errPoolTimeout
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
	defer func() { <-db.slots }()
	return sleep(ctx, d)
}

// sleep waits d or until ctx ends, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Endpoint is an HTTP endpoint a run serves to the monitoring system: the
// exporter Prometheus scrapes, the webhook Alertmanager pages.
type Endpoint struct {
	addr string
	srv  *http.Server
	done chan struct{}
}

// ListenEndpoint binds addr (given with flag) before the run, so an
// address in use is an error before anything is measured or injected
// rather than data lost during the game day, and serves h on it; the error
// says whom the address is for.
func ListenEndpoint(flag, addr, forWhom string, h http.Handler) (*Endpoint, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s %s: cannot listen: %w (choose a free address for %s)", flag, addr, err, forWhom)
	}
	e := &Endpoint{addr: l.Addr().String(), done: make(chan struct{})}
	e.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(e.done)
		if err := e.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // Serve only fails once the listener is gone
		}
	}()
	return e, nil
}

// Addr is the address the endpoint listens on.
func (e *Endpoint) Addr() string { return e.addr }

// Close stops serving, waiting up to 5s for requests under way.
func (e *Endpoint) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := e.srv.Shutdown(ctx)
	<-e.done
	return err
}

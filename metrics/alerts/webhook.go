package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Webhook receives Alertmanager's webhook notifications for the length of
// a run: the moment a page reaches it is the alert's time to page.
type Webhook struct {
	addr  string
	srv   *http.Server
	now   func() time.Time
	mu    sync.Mutex
	queue []Transition
	seen  map[string]bool // each alert is notified once
	done  chan struct{}
}

// webhookMessage is Alertmanager's webhook payload (version 4), the parts
// gameday reads.
type webhookMessage struct {
	Version string `json:"version"`
	Alerts  []struct {
		Status string            `json:"status"` // firing or resolved
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

// Listen binds addr before the run, so a port in use is an error before
// anything is injected rather than a page lost during the game day.
func Listen(addr string, now func() time.Time) (*Webhook, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--alert-webhook %s: cannot listen: %w (choose a free address for Alertmanager's webhook receiver)", addr, err)
	}
	if now == nil {
		now = time.Now
	}
	w := &Webhook{addr: l.Addr().String(), now: now, seen: map[string]bool{}, done: make(chan struct{})}
	w.srv = &http.Server{Handler: w, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(w.done)
		if err := w.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // Serve only fails once the listener is gone
		}
	}()
	return w, nil
}

// Addr is the address the receiver listens on.
func (w *Webhook) Addr() string { return w.addr }

// URL is what an Alertmanager webhook_config points at.
func (w *Webhook) URL() string { return "http://" + w.addr + "/" }

// ServeHTTP takes one notification.
func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(rw, "POST Alertmanager webhook notifications here", http.StatusMethodNotAllowed)
		return
	}
	at := w.now()
	var msg webhookMessage
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, 4<<20)).Decode(&msg); err != nil {
		http.Error(rw, "not an Alertmanager webhook message: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	for _, a := range msg.Alerts {
		// Resolution is read from Prometheus, where it happens; the page
		// that matters here is the first one saying the alert fires.
		k := Key(a.Labels)
		if a.Status != "firing" || w.seen[k] {
			continue
		}
		w.seen[k] = true
		w.queue = append(w.queue, Transition{Labels: a.Labels, State: Notified, At: at})
	}
	w.mu.Unlock()
	rw.WriteHeader(http.StatusOK)
}

// Drain returns the notifications received since the last call.
func (w *Webhook) Drain() []Transition {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.queue
	w.queue = nil
	return out
}

// Close stops the receiver.
func (w *Webhook) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := w.srv.Shutdown(ctx)
	<-w.done
	return err
}

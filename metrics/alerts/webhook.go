package alerts

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gameday/gameday/metrics"
)

// Webhook receives Alertmanager's webhook notifications for the length of
// a run: the moment a page reaches it is the alert's time to page.
type Webhook struct {
	ep    *metrics.Endpoint
	now   func() time.Time
	mu    sync.Mutex
	queue []Transition
	seen  map[string]bool // each alert is notified once
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
	if now == nil {
		now = time.Now
	}
	w := &Webhook{now: now, seen: map[string]bool{}}
	ep, err := metrics.ListenEndpoint("--alert-webhook", addr, "Alertmanager's webhook receiver", w)
	if err != nil {
		return nil, err
	}
	w.ep = ep
	return w, nil
}

// Addr is the address the receiver listens on.
func (w *Webhook) Addr() string { return w.ep.Addr() }

// URL is what an Alertmanager webhook_config points at.
func (w *Webhook) URL() string { return "http://" + w.ep.Addr() + "/" }

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
func (w *Webhook) Close() error { return w.ep.Close() }

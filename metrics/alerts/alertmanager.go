package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Alertmanager is a client of Alertmanager's v2 API.
type Alertmanager struct {
	URL  string // base URL, e.g. http://alertmanager:9093
	HTTP *http.Client
}

// AMAlert is one alert as /api/v2/alerts lists it.
type AMAlert struct {
	Labels   map[string]string `json:"labels"`
	StartsAt time.Time         `json:"startsAt"`
	Status   struct {
		State string `json:"state"` // active, suppressed, unprocessed
	} `json:"status"`
}

func (a *Alertmanager) get(ctx context.Context, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(a.URL, "/")+path, nil)
	if err != nil {
		return fmt.Errorf("alertmanager %s: %w", a.URL, err)
	}
	c := a.HTTP
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("alertmanager at %s does not answer: %w", a.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("alertmanager at %s: GET %s: %s: %s", a.URL, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if into == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		return fmt.Errorf("alertmanager at %s: GET %s: %w", a.URL, path, err)
	}
	return nil
}

// Check says whether Alertmanager answers its status endpoint.
func (a *Alertmanager) Check(ctx context.Context) error {
	var status struct {
		Cluster struct {
			Status string `json:"status"`
		} `json:"cluster"`
	}
	return a.get(ctx, "/api/v2/status", &status)
}

// Alerts lists the alerts Alertmanager holds now.
func (a *Alertmanager) Alerts(ctx context.Context) ([]AMAlert, error) {
	var out []AMAlert
	return out, a.get(ctx, "/api/v2/alerts", &out)
}

package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities/internal/httperr"
)

// Client posts events to the portal's webhook, signed with the shared
// secret (headers X-Ozgflow-Signature and X-Ozgflow-Timestamp over the exact
// body). It is safe for concurrent use.
type Client struct {
	URL    string
	Secret []byte
	HTTP   *http.Client     // nil means http.DefaultClient
	Now    func() time.Time // nil means time.Now
}

// StatusError is a webhook's answer other than 2xx.
type StatusError struct {
	Status int
	// RetryAfter is how long the portal asked to wait (Retry-After), if it did.
	RetryAfter time.Duration
	Message    string
}

func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("portal answered %d", e.Status)
	}
	return fmt.Sprintf("portal answered %d: %s", e.Status, e.Message)
}

// Send posts one event; any 2xx answer means the portal has it.
func (c *Client) Send(ctx context.Context, e Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	ts := now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("portal webhook %s: %w", c.URL, err)
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set(ozgflow.HeaderSignatureTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(ozgflow.HeaderSignature, ozgflow.SignBody(c.Secret, ts, body))
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("post event %s: %w", e.ID, err)
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	if res.StatusCode/100 == 2 {
		return nil
	}
	se := &StatusError{Status: res.StatusCode, Message: httperr.Text(answer)}
	if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && secs > 0 {
		se.RetryAfter = time.Duration(secs) * time.Second
	}
	return fmt.Errorf("post event %s: %w", e.ID, se)
}

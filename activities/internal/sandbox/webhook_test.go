package sandbox

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
)

func TestWebhooksRetryUntilDelivered(t *testing.T) {
	secret := []byte("hook-secret")
	tests := []struct {
		name      string
		answers   []int // status per attempt; the last repeats
		wantCalls int32
		delivered bool
	}{
		{"at once", []int{204}, 1, true},
		{"after two outages", []int{503, 502, 200}, 3, true},
		{"refused for good", []int{400}, 1, false},
		{"rate limited, then through", []int{429, 204}, 2, true},
		{"down for longer than the retries", []int{503}, 1 + webhookRetries, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls, good atomic.Int32
			var mu sync.Mutex
			ids := map[string]bool{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1))
				body, _ := io.ReadAll(r.Body)
				id := r.Header.Get(ozgflow.HeaderWebhookID)
				if ozgflow.VerifyWebhook(secret, time.Now(), r.Header.Get(ozgflow.HeaderSignatureTimestamp), id,
					r.Header.Get(ozgflow.HeaderSignature), body) != nil || string(body) != `{"n":1}` {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				mu.Lock()
				ids[id] = true
				mu.Unlock()
				status := tt.answers[min(n, len(tt.answers))-1]
				if status < 300 {
					good.Add(1)
				}
				w.WriteHeader(status)
			}))
			defer srv.Close()
			hooks := NewWebhooks(WebhookConfig{URL: srv.URL, Secret: secret, RetryDelay: time.Millisecond})
			hooks.Send([]byte(`{"n":1}`), "test", tt.name)
			deadline := time.Now().Add(5 * time.Second)
			for calls.Load() < tt.wantCalls && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			hooks.Close() // waits for the retries to end
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("%d attempts, want %d", got, tt.wantCalls)
			}
			if (good.Load() == 1) != tt.delivered {
				t.Errorf("delivered %d times, want delivered %v", good.Load(), tt.delivered)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(ids) != 1 {
				t.Errorf("the attempts carried %d webhook IDs, want one for all: a receiver could not drop repeats", len(ids))
			}
		})
	}
}

func TestEveryEventHasItsOwnWebhookID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewWebhookID()
		if !ozgflow.ValidWebhookID(id) || seen[id] {
			t.Fatalf("webhook ID %q is not valid or not new", id)
		}
		seen[id] = true
	}
}

func TestWebhooksWithoutURLSendNothing(t *testing.T) {
	hooks := NewWebhooks(WebhookConfig{})
	hooks.Send([]byte("{}")) // must neither block nor panic
	hooks.Close()
}

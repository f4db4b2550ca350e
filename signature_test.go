package ozgflow

import (
	"strings"
	"testing"
	"time"
)

func TestSignedBodies(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"a":1}`)
	now := time.Unix(1_800_000_000, 0)
	sig := SignBody(secret, now, body)
	ts := "1800000000"
	tests := []struct {
		name          string
		secret        []byte
		at            time.Time
		ts, sig, body string
		wantOK        bool
	}{
		{"valid", secret, now, ts, sig, string(body), true},
		{"other body", secret, now, ts, sig, `{"a":2}`, false},
		{"other secret", []byte("x"), now, ts, sig, string(body), false},
		{"stale", secret, now.Add(10 * time.Minute), ts, sig, string(body), false},
		{"no timestamp", secret, now, "", sig, string(body), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyBody(tt.secret, tt.at, tt.ts, tt.sig, []byte(tt.body))
			if (err == nil) != tt.wantOK {
				t.Errorf("err = %v, want ok %v", err, tt.wantOK)
			}
		})
	}
}

func TestSignedWebhooks(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"a":1}`)
	now := time.Unix(1_800_000_000, 0)
	ts, id := "1800000000", "wh_7RZQ2KX4"
	sig := SignWebhook(secret, now, id, body)
	tests := []struct {
		name              string
		secret            []byte
		at                time.Time
		ts, id, sig, body string
		wantOK            bool
	}{
		{"valid", secret, now, ts, id, sig, string(body), true},
		{"other ID", secret, now, ts, "wh_other", sig, string(body), false},
		{"no ID", secret, now, ts, "", sig, string(body), false},
		{"ID with a dot", secret, now, ts, "wh.7", SignWebhook(secret, now, "wh.7", body), string(body), false},
		{"ID too long", secret, now, ts, strings.Repeat("a", WebhookIDMaxLen+1),
			SignWebhook(secret, now, strings.Repeat("a", WebhookIDMaxLen+1), body), string(body), false},
		{"other body", secret, now, ts, id, sig, `{"a":2}`, false},
		{"other secret", []byte("x"), now, ts, id, sig, string(body), false},
		{"stale", secret, now.Add(10 * time.Minute), ts, id, sig, string(body), false},
		{"signed without the ID", secret, now, ts, id, SignBody(secret, now, body), string(body), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyWebhook(tt.secret, tt.at, tt.ts, tt.id, tt.sig, []byte(tt.body))
			if (err == nil) != tt.wantOK {
				t.Errorf("err = %v, want ok %v", err, tt.wantOK)
			}
		})
	}
	// Without its ID the webhook's signature does not verify.
	if VerifyBody(secret, now, ts, sig, body) == nil {
		t.Error("a webhook signature verified without its ID")
	}
}

func TestIDs(t *testing.T) {
	id := TaskID("0b6b5a3e-1", "review", 2)
	if id != "0b6b5a3e-1.review.2" {
		t.Errorf("TaskID = %s", id)
	}
	if c, ok := CaseIDFromTaskID(id); !ok || c != "0b6b5a3e-1" {
		t.Errorf("CaseIDFromTaskID = %s %v", c, ok)
	}
	if c, ok := CaseIDFromWorkflowID(CaseWorkflowID("x")); !ok || c != "x" {
		t.Errorf("CaseIDFromWorkflowID = %s %v", c, ok)
	}
}

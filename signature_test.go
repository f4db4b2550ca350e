package ozgflow

import (
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

package test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow/test/e2e"
)

// TestCasesInFlightFinishAfterRestart stops `dev` while cases wait for payment
// and for a case worker, starts it again on the same data directory, and
// finishes both.
func TestCasesInFlightFinishAfterRestart(t *testing.T) {
	dir := t.TempDir()
	// Both starts use the same port, as `dev` on :8080 would, so that links
	// handed out before the restart still work after it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	first, err := startStack(dir, false, addr)
	if err != nil {
		t.Fatal(err)
	}
	before := stackOf(first)
	unpaid := before.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-anna"))
	inReview := before.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-anna"))
	e2e.Pay(t, inReview.PaymentURL, "pay")
	before.WaitStatus(t, inReview, "in_review")
	first.Close()

	second, err := startStack(dir, false, addr)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer second.Close()
	after := stackOf(second)
	if second.ProjectionsIntact {
		t.Error("a Redis prefix without projections counted as intact")
	}
	waitCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := second.WaitProjections(waitCtx); err != nil {
		t.Fatal(err)
	}
	// The payment page and the access tokens still work after the restart.
	e2e.Pay(t, unpaid.PaymentURL, "pay")
	after.WaitStatus(t, unpaid, "in_review")
	for _, s := range []e2e.Submitted{unpaid, inReview} {
		task := after.OpenTask(t, s.ID, "dev-sb-dresden", "gewerbe")
		res := e2e.Call(t, after.URL, http.MethodPost, "/api/v1/tasks/"+task["id"].(string)+"/complete", "dev-sb-dresden",
			map[string]any{"outcome": "approve"})
		if res.Status != http.StatusOK {
			t.Fatalf("complete after restart: %d %s", res.Status, res.Body)
		}
		after.WaitStatus(t, s, "approved")
	}
}

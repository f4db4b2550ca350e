package test

import (
	"net"
	"net/http"
	"testing"
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
	unpaid := submitTo(t, first, gewerbeanmeldung(leipzig, "amt24-anna"))
	inReview := submitTo(t, first, gewerbeanmeldung(leipzig, "amt24-anna"))
	payAt(t, inReview.PaymentURL)
	waitStatusAt(t, first, inReview, "in_review")
	first.Close()

	second, err := startStack(dir, false, addr)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer second.Close()
	if second.Reindexed < 2 {
		t.Errorf("reindexed %d cases at start, want at least 2", second.Reindexed)
	}
	// The payment page and the access tokens still work after the restart.
	payAt(t, unpaid.PaymentURL)
	waitStatusAt(t, second, unpaid, "in_review")
	for _, s := range []submitted{unpaid, inReview} {
		var taskID string
		waitForTask(t, second, s.ID, &taskID)
		res := call(t, second.URL, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-leipzig",
			map[string]any{"outcome": "approve"})
		if res.status != http.StatusOK {
			t.Fatalf("complete after restart: %d %s", res.status, res.body)
		}
		waitStatusAt(t, second, s, "approved")
	}
}

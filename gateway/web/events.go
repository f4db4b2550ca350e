package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/ozgflow/ozgflow/store"
)

// StreamCaseEvents answers with server-sent events: one event named name for
// every case of the authority that changed and that pass lets through (its
// data is the case ID), and a comment every 15 s so proxies keep the stream
// open. It ends when the client goes away.
func StreamCaseEvents(w http.ResponseWriter, r *http.Request, st *store.Store, authority, name string, pass func(caseID string) bool, unavailable string) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, unavailable, http.StatusInternalServerError)
		return
	}
	ctx := r.Context()
	sub := st.Client().Subscribe(ctx, st.EventsChannel(authority))
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription is confirmed
		http.Error(w, unavailable, http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	fmt.Fprint(w, "retry: 3000\n: verbunden\n\n")
	flusher.Flush()
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	messages := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case <-heartbeat.C:
			fmt.Fprint(w, ": ping\n\n")
		case msg, ok := <-messages:
			if !ok {
				return
			}
			if !pass(msg.Payload) {
				continue
			}
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, msg.Payload)
		}
		flusher.Flush()
	}
}

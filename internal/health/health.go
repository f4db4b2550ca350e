// Package health answers the probes of container runtimes and load
// balancers: /healthz says the process runs, /readyz says whether the
// dependencies it needs answer.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Timeout bounds how long /readyz waits for its checks.
const Timeout = 3 * time.Second

// Checks name the dependencies a process needs to serve, each with a
// function that reports whether it answers ("temporal", "redis"). As an
// http.Handler, Checks answer /readyz: 200 with "ok" for every check, or
// 503 with the error text in place of "ok" for each check that failed, as
// in {"redis":"ok","temporal":"ok"}. Without checks /readyz answers as
// /healthz does.
type Checks map[string]func(context.Context) error

// ServeHTTP runs every check and answers with the outcome of each.
func (c Checks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(c) == 0 {
		Live(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), Timeout)
	defer cancel()
	results := make(map[string]string, len(c))
	status := http.StatusOK
	for name, check := range c {
		results[name] = "ok"
		if err := check(ctx); err != nil {
			results[name], status = err.Error(), http.StatusServiceUnavailable
		}
	}
	writeJSON(w, status, results)
}

// Live answers /healthz: 200 {"status":"ok"} for as long as the process
// serves at all.
func Live(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Register serves GET /healthz and GET /readyz with checks on mux.
func Register(mux *http.ServeMux, checks Checks) {
	mux.HandleFunc("GET /healthz", Live)
	mux.Handle("GET /readyz", checks)
}

func writeJSON(w http.ResponseWriter, status int, v map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

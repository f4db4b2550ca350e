package sandbox

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
)

// Outage is a sandbox's simulated outage, switched in code or over HTTP so
// that tests and demos can take a service down and bring it back. It is not
// persisted: a restarted sandbox is up. It is safe for concurrent use.
type Outage struct {
	service string // names the service in the log, e.g. "Portal"
	log     *slog.Logger

	mu   sync.Mutex
	down bool
}

// NewOutage returns the switch of service, which is up; changes are logged
// to log.
func NewOutage(service string, log *slog.Logger) *Outage {
	return &Outage{service: service, log: log}
}

// SetDown switches the outage on or off.
func (o *Outage) SetDown(down bool) {
	o.mu.Lock()
	changed := o.down != down
	o.down = down
	o.mu.Unlock()
	if changed {
		o.log.Info(o.service+" outage switched", "down", down)
	}
}

// Down reports whether the outage is on.
func (o *Outage) Down() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.down
}

// outageBody is what the switch reads and answers: {"down": true}.
type outageBody struct {
	Down *bool `json:"down"`
}

// ServeHTTP answers GET with the switch's state, {"down": false}, and takes
// any other method as setting it from a body of the same shape.
func (o *Outage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		down := o.Down()
		WriteJSON(w, http.StatusOK, outageBody{Down: &down})
		return
	}
	var req outageBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req); err != nil || req.Down == nil {
		WriteError(w, http.StatusBadRequest, `want {"down": true} or {"down": false}`)
		return
	}
	o.SetDown(*req.Down)
	WriteJSON(w, http.StatusOK, req)
}

package process

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"testing"
)

// TestASandboxRequestGivesItsConnectionBackToTheGateway serves a sandbox
// request on a goroutine of the gateway's listener, as a kept-alive
// connection does, and reads the goroutine's labels afterwards: the
// gateway's next request there must count as the gateway's in the
// profiles, not as nobody's.
func TestASandboxRequestGivesItsConnectionBackToTheGateway(t *testing.T) {
	var during string
	h := labelSandboxRequests(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		during = labelsOfParked(t, parkWhileRead)
	}))
	after := make(chan string)
	go labelled(context.Background(), ProfileGateway, func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, sandboxPrefix+"fachverfahren/", nil))
		after <- labelsOfParked(t, parkWhileRead)
	})
	if got := <-after; got != `{"role":"gateway"}` {
		t.Errorf("labels after a sandbox request = %s, want the gateway's", got)
	}
	if during != `{"role":"sandbox"}` {
		t.Errorf("labels during a sandbox request = %s, want the sandbox's", during)
	}
}

// labelsOfParked parks the calling goroutine in park while another reads
// the goroutine profile, and returns the labels the profile shows for it.
func labelsOfParked(t *testing.T, park func(release <-chan struct{}, parked chan<- struct{})) string {
	t.Helper()
	release, parked, read := make(chan struct{}), make(chan struct{}), make(chan string)
	go func() {
		<-parked
		var b bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
		close(release)
		read <- labelsOf(b.String(), "process.parkWhileRead")
	}()
	park(release, parked)
	return <-read
}

// parkWhileRead blocks until released, after saying it is about to.
func parkWhileRead(release <-chan struct{}, parked chan<- struct{}) {
	close(parked)
	<-release
}

// labelsOf finds the goroutine whose stack holds fn in a goroutine profile
// of debug level 1 and returns its labels, "" when it has none.
func labelsOf(profile, fn string) string {
	for _, block := range strings.Split(profile, "\n\n") {
		if !strings.Contains(block, fn) {
			continue
		}
		for _, line := range strings.Split(block, "\n") {
			if rest, ok := strings.CutPrefix(line, "# labels: "); ok {
				return rest
			}
		}
		return ""
	}
	return "(not found)"
}

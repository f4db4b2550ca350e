package e2e

import (
	"testing"
	"time"
)

// The checker of words and times finds what it is there to find.
func TestWordsCheckerFindsEnglishStatusesAndUTCTimes(t *testing.T) {
	at := time.Date(2026, 11, 27, 1, 29, 0, 0, time.UTC)
	for _, tt := range []struct {
		page string
		bad  bool
	}{
		{`<p>Status: <span class="status-published">veröffentlicht</span></p>`, false},
		{`<p>Status: published</p>`, true},
		{`<td>Zahlung PAYED</td>`, true},
		{`<p>Eingegangen am 27.11.2026, 02:29 Uhr</p>`, false},
		{`<p>Eingegangen am 27.11.2026 01:29</p>`, true},
		{`<p>2026-11-27T01:29:00Z</p>`, true},
		{`<textarea>notices:
  approved:
    title: x</textarea><p>Entwurf</p>`, false},
		{`<time datetime="2026-11-27T01:29:00Z">27.11.2026, 02:29 Uhr</time>`, false},
	} {
		probe := &testing.T{}
		w := &wordsChecker{t: probe}
		w.moment(at)
		done := make(chan bool)
		go func() {
			defer close(done)
			w.check("page", visibleText(tt.page))
		}()
		<-done
		if probe.Failed() != tt.bad {
			t.Errorf("%q: flagged %v, want %v", tt.page, probe.Failed(), tt.bad)
		}
	}
}

package locale

import "testing"

func TestTrailActionsInBothLanguages(t *testing.T) {
	for key, w := range trailWords {
		if w.de == "" || w.en == "" {
			t.Errorf("trail action %q: %+v, want German and English", key, w)
		}
	}
	if got := DE.TrailAction("case.read"); got != "Vorgang angesehen" {
		t.Errorf("case.read = %q", got)
	}
	if got := DE.TrailAction("no.such"); got != "no.such" {
		t.Errorf("unknown action = %q", got)
	}
}

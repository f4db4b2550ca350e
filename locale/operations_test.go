package locale

import "testing"

func TestCallErrorSaysWhatFailedInGerman(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{"fachverfahren gewerbe-leipzig: 503 Service Unavailable: Fachverfahren nicht erreichbar",
			"Das Zielsystem meldet einen Fehler auf seiner Seite (Status 503)."},
		{`fachverfahren dms: Post "http://127.0.0.1:1/cases": dial tcp 127.0.0.1:1: connect: connection refused`,
			"Das Zielsystem ist nicht erreichbar."},
		{"fachverfahren dms: context deadline exceeded", "Das Zielsystem hat nicht rechtzeitig geantwortet."},
		{"payment: 429 Too Many Requests", "Das Zielsystem ist überlastet (Status 429) und bittet, später zu senden."},
		{"fachverfahren x: 422 Unprocessable Entity", "Das Zielsystem weist den Aufruf ab (Status 422)."},
		{"fachverfahren x: no URL configured for this target", "Für dieses Zielsystem ist keine Adresse eingerichtet."},
		{"something odd", "Der Aufruf ist fehlgeschlagen."},
	} {
		if got := CallError(tc.msg); got != tc.want {
			t.Errorf("CallError(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}

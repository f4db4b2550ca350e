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
		{"smtp mail:587: 421 4.7.0 Try again later", "Der Aufruf ist fehlgeschlagen."},
		{"smtp mail.example:587: short response: x", "Der Aufruf ist fehlgeschlagen."},
		{"payment provider: unexpected answer 502 Bad Gateway", "Das Zielsystem meldet einen Fehler auf seiner Seite (Status 502)."},
		{"signature status: 503 Service Unavailable: busy", "Das Zielsystem meldet einen Fehler auf seiner Seite (Status 503)."},
		{"fachverfahren x: Post \"http://10.0.0.1:8080/v2/cases/123\": EOF", "Das Zielsystem ist nicht erreichbar."},
		{"archive 2026: case 42 of 100 rejected", "Der Aufruf ist fehlgeschlagen."},
	} {
		if got := CallError(tc.msg); got != tc.want {
			t.Errorf("CallError(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}

func TestCallStatusIsTheHTTPStatusNotAnyNumber(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want int
	}{
		{"fachverfahren gewerbe-leipzig: 503 Service Unavailable", 503},
		{"payment provider: unexpected answer 429", 429},
		{"dms: HTTP/1.1 404 Not Found", 404},
		{"archive: status 500", 500},
		{"smtp mail:587: dial tcp 10.0.0.5:587: connection refused", 0},
		{"smtp mail:587: 550 5.1.1 <a@b.de>: user unknown", 0},
		{"fachverfahren x: case 123 of 456 refused", 0},
	} {
		if got := CallStatus(tc.msg); got != tc.want {
			t.Errorf("CallStatus(%q) = %d, want %d", tc.msg, got, tc.want)
		}
	}
}

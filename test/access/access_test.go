package access

import (
	"net/http"
	"testing"
)

func TestMatrixReads(t *testing.T) {
	routes, err := Routes()
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) < 70 {
		t.Errorf("read %d routes; the gateway has more", len(routes))
	}
}

func TestAnswerMatches(t *testing.T) {
	tests := []struct {
		name     string
		answer   Answer
		status   int
		location string
		want     bool
	}{
		{"created is admitted", Admitted, http.StatusCreated, "", true},
		{"a refused body is admitted", Admitted, http.StatusUnprocessableEntity, "", true},
		{"a redirect onwards is admitted", Admitted, http.StatusSeeOther, "/arbeitskorb", true},
		{"the way to sign in is no admission", Admitted, http.StatusSeeOther, "/anmelden?next=%2Farbeitskorb", false},
		{"forbidden is no admission", Admitted, http.StatusForbidden, "", false},
		{"hidden is no admission", Admitted, http.StatusNotFound, "", false},
		{"the way to sign in", SignIn, http.StatusSeeOther, "/anmelden?next=%2Fverwaltung", true},
		{"a page is not the way to sign in", SignIn, http.StatusOK, "", false},
		{"signed out is no refusal", Admitted, http.StatusSeeOther, "/anmelden?hinweis=abgemeldet", true},
		{"the status declared", Answer("404"), http.StatusNotFound, "", true},
		{"another status", Answer("404"), http.StatusForbidden, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.answer.Matches(tt.status, tt.location); got != tt.want {
				t.Errorf("%q.Matches(%d, %q) = %v, want %v", tt.answer, tt.status, tt.location, got, tt.want)
			}
		})
	}
}

// TestTrailCoversTheMatrix: every route of the matrix says what it writes
// to the audit trail, and the trail names no route the matrix lacks.
func TestTrailCoversTheMatrix(t *testing.T) {
	routes, err := Routes()
	if err != nil {
		t.Fatal(err)
	}
	actions, err := Actions()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if _, ok := actions[r.String()]; !ok {
			t.Errorf("%s has no line in Trail", r)
		}
		delete(actions, r.String())
	}
	for r := range actions {
		t.Errorf("Trail declares %s, which the matrix does not have", r)
	}
}

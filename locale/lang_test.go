package locale

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestFromRequest(t *testing.T) {
	tests := []struct {
		name, cookie, accept string
		want                 Lang
	}{
		{"default", "", "", DE},
		{"English browser", "", "en-GB,en;q=0.9", EN},
		{"German browser", "", "de-DE,de;q=0.9,en;q=0.8", DE},
		{"German preferred over English", "", "en;q=0.5,de;q=0.9", DE},
		{"unknown languages", "", "fr-FR,fr;q=0.9", DE},
		{"French first, then English", "", "fr;q=0.9,en;q=0.8", EN},
		{"the switch wins", "de", "en", DE},
		{"the switch to English", "en", "de", EN},
		{"a broken cookie is ignored", "xx", "en", EN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/antraege/x", nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: CookieName, Value: tt.cookie})
			}
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			if got := FromRequest(r); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"German", DE.Text(false, "next.answer.due", "05.12.2026, 09:00 Uhr"),
			"Bitte beantworten Sie die Frage der Behörde bis 05.12.2026, 09:00 Uhr."},
		{"English", EN.Text(false, "next.answer.due", "5 December 2026, 09:00"),
			"Please answer the authority's question by 5 December 2026, 09:00."},
		{"easy to read", DE.Text(true, "status.received"), "Ihr Antrag ist da."},
		{"easy to read falls back to German", DE.Text(true, "status.number"), "Antragsnummer"},
		{"no easy English", EN.Text(true, "status.received"), "Your application has been received and is being prepared."},
		{"unknown key", EN.Text(false, "no.such.key"), "no.such.key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// TestTextsInBothLanguages keeps the two tables of texts in step, every
// easy-to-read text an override of a German one, and every error page of
// the staff's and the applicants' pages worded in both languages.
func TestTextsInBothLanguages(t *testing.T) {
	for key := range pageText[DE] {
		if _, ok := pageText[EN][key]; !ok {
			t.Errorf("%q has no English text", key)
		}
	}
	for key := range pageText[EN] {
		if _, ok := pageText[DE][key]; !ok {
			t.Errorf("%q has no German text", key)
		}
	}
	for key := range easyText {
		if _, ok := pageText[DE][key]; !ok {
			t.Errorf("easy-to-read %q overrides no German text", key)
		}
	}
	for _, family := range []string{"error.", "staff.error."} {
		for _, kind := range []string{"forbidden", "notfound", "conflict", "unavailable", "csrf"} {
			for _, part := range []string{"title", "text", "help"} {
				key := family + kind + "." + part
				for _, l := range []Lang{DE, EN} {
					if pageText[l][key] == "" {
						t.Errorf("error page text %q missing in %s", key, l)
					}
				}
			}
		}
	}
}

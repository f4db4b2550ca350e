// Package locale holds what ozgflow says to people in German and English:
// the applicants' page texts, the staff's words for statuses, outcomes and
// audit actions, refusal and error texts, and how dates, times, amounts and
// sizes are written. It also counts Saxon working days, since deadlines are
// German local time. Notices come from the process variant and stay German.
package locale

import (
	"fmt"
	"net/http"

	"golang.org/x/text/language"
)

// Lang is a language ozgflow speaks. German comes first; English is offered
// on request.
type Lang string

// The languages ozgflow speaks.
const (
	DE Lang = "de"
	EN Lang = "en"
)

// CookieName is the cookie that remembers the language chosen with the
// pages' language switch.
const CookieName = "ozgflow_lang"

var matcher = language.NewMatcher([]language.Tag{language.German, language.English})

// Parse accepts the codes of the language switch, "de" and "en".
func Parse(s string) (Lang, bool) {
	switch Lang(s) {
	case DE, EN:
		return Lang(s), true
	}
	return "", false
}

// FromRequest is the language of a request: the switch's cookie, else the
// browser's Accept-Language, else German.
func FromRequest(r *http.Request) Lang {
	if c, err := r.Cookie(CookieName); err == nil {
		if l, ok := Parse(c.Value); ok {
			return l
		}
	}
	if h := r.Header.Get("Accept-Language"); h != "" {
		if tags, _, err := language.ParseAcceptLanguage(h); err == nil && len(tags) > 0 {
			if _, i, conf := matcher.Match(tags...); conf != language.No && i == 1 {
				return EN
			}
		}
	}
	return DE
}

// Text returns the page text under key in the language, formatted with
// args; in the easy view German texts take their easy-to-read form (Leichte
// Sprache) where there is one. An unknown key comes back as given.
func (l Lang) Text(easy bool, key string, args ...any) string {
	msg, ok := "", false
	if easy && l == DE {
		msg, ok = easyText[key]
	}
	if !ok {
		msg, ok = pageText[l][key]
	}
	if !ok {
		return key // a test keeps every key in both tables
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// pick returns the word of a pair in the language.
func (l Lang) pick(w words) string {
	if l == EN {
		return w.en
	}
	return w.de
}

// words are one thing said in German and in English.
type words struct{ de, en string }

// HasEasy reports whether the German text under key has an easy-to-read
// form (Leichte Sprache).
func HasEasy(key string) bool {
	_, ok := easyText[key]
	return ok
}

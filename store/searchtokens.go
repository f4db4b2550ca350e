package store

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ozgflow/ozgflow"
)

// Tokens of the case search. A case is found by its short case number and
// by the words of its applicant's name, business name, address and e-mail
// address. A token is a word lower case and without diacritics ("Müller"
// is "muller", "Groß" "gross"), a number without leading zeros ("04109" is
// "4109"), the domain of an e-mail address as a whole ("web.de"). What is
// typed is read the same way; a typed word with umlauts is also looked
// for transliterated ("mueller"), and one with ae, oe, ue also with a, o,
// u, so that either spelling finds the other.

// maxTokenBytes bounds a token; longer words are cut, as typed ones are.
const maxTokenBytes = 48

// caseTokens returns the sorted tokens a case is found by.
func caseTokens(c ozgflow.Case) []string {
	set := map[string]bool{}
	if n := c.CaseNumber; n != "" {
		addCaseNumber(set, n)
	}
	if a := c.Applicant; a != nil {
		for _, field := range []string{a.Name, a.BusinessName, a.Address} {
			for _, w := range words(field) {
				set[token(w)] = true
			}
		}
		local, domain := splitEmail(a.Email)
		for _, w := range words(local) {
			set[token(w)] = true
		}
		set[domain] = true
	}
	delete(set, "")
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// token is a word as the index keeps it.
func token(w string) string {
	t := cut(fold(w))
	if isDigits(t) {
		if t = strings.TrimLeft(t, "0"); t == "" {
			t = "0"
		}
	}
	return t
}

// splitEmail returns an address's local part and its domain as a token.
func splitEmail(address string) (local, domain string) {
	local, domain, found := strings.Cut(strings.TrimSpace(address), "@")
	if !found {
		return address, ""
	}
	return local, cut(fold(strings.Trim(domain, ".,;:<>()")))
}

// addCaseNumber adds the whole number ("gew-2026-000123") and its serial
// ("123").
func addCaseNumber(set map[string]bool, number string) {
	set[caseNumberToken(number)] = true
	if parts := words(number); len(parts) >= 2 {
		set[token(parts[len(parts)-1])] = true
	}
}

// caseNumberToken is a case number as a token: its alphanumeric parts,
// folded, joined by "-".
func caseNumberToken(s string) string { return cut(strings.Join(foldAll(words(s)), "-")) }

// words splits text into runs of letters and runs of digits: "Müller42"
// is "Müller" and "42", "12a" is "12" and "a".
func words(s string) []string {
	var out []string
	start, kind := -1, 0
	for i, r := range s {
		k := 0
		switch {
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r):
			k = 1
		case unicode.IsDigit(r):
			k = 2
		}
		if k != kind && start >= 0 {
			out = append(out, s[start:i])
			start = -1
		}
		if k != 0 && start < 0 {
			start = i
		}
		kind = k
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

func foldAll(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = fold(w)
	}
	return out
}

// fold lowers a word and strips its diacritics; ß becomes ss.
func fold(w string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(w)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'ß':
			b.WriteString("ss")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// transliterate lowers a word and writes German umlauts as ae, oe, ue,
// then folds what is left.
func transliterate(w string) string {
	return fold(strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "Ä", "ae", "Ö", "oe", "Ü", "ue").Replace(w))
}

// untransliterate reads ae, oe, ue of a folded word as the umlauts they
// may stand for, folded: "mueller" is "muller".
func untransliterate(t string) string {
	return strings.NewReplacer("ae", "a", "oe", "o", "ue", "u").Replace(t)
}

// cut bounds a token at maxTokenBytes, on a rune boundary.
func cut(t string) string {
	if len(t) <= maxTokenBytes {
		return t
	}
	t = t[:maxTokenBytes]
	for !utf8.ValidString(t) {
		t = t[:len(t)-1]
	}
	return t
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// queryWord is one term of a search: tokens (a typed word with umlauts is
// looked for as "muller" and "mueller"), each matched exactly or as the
// beginning of the tokens it starts.
type queryWord struct {
	Tokens []string
	Prefix bool
}

// Bounds of a search text.
const (
	maxQueryWords = 8
	minPrefixLen  = 3 // shorter words match whole tokens only
)

// parseQuery reads what a person typed: words separated by spaces; a
// word that reads like a case number (letters, then digits, joined by
// "-") is one term, any other word one term per run of letters and digits.
// Every term of three characters or more, but numbers, also matches the
// tokens it begins.
func parseQuery(text string) []queryWord {
	var out []queryWord
	seen := map[string]bool{}
	add := func(alternatives ...string) {
		var tokens []string
		for _, t := range alternatives {
			if !slices.Contains(tokens, t) {
				tokens = append(tokens, t)
			}
		}
		if tokens[0] == "" || seen[tokens[0]] || len(out) == maxQueryWords {
			return
		}
		seen[tokens[0]] = true
		// Digits match whole: "123" is a serial or a house number, not the
		// beginning of every number that starts so.
		out = append(out, queryWord{Tokens: tokens, Prefix: utf8.RuneCountInString(tokens[0]) >= minPrefixLen && !isDigits(tokens[0])})
	}
	for _, field := range strings.Fields(text) {
		if looksLikeCaseNumber(field) {
			add(caseNumberToken(field))
			continue
		}
		if local, domain, isEmail := strings.Cut(field, "@"); isEmail {
			field = local
			if _, domain = splitEmail(field + "@" + domain); domain != "" {
				add(domain)
			}
		}
		for _, w := range words(field) {
			t := token(w)
			add(t, cut(transliterate(w)), untransliterate(t))
		}
	}
	return out
}

// looksLikeCaseNumber reports whether a typed word is letters followed by
// digit groups, joined by "-": "GEW-2026-000123", "gew-2026".
func looksLikeCaseNumber(s string) bool {
	parts := strings.Split(strings.Trim(s, ".,;:()"), "-")
	if len(parts) < 2 || parts[0] == "" || !strings.ContainsFunc(parts[0], unicode.IsLetter) {
		return false
	}
	for _, p := range parts[1:] {
		if !isDigits(p) {
			return false
		}
	}
	return true
}

package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/store"
)

// PeriodBound reads a bound of a period as the trail's export does: a date
// (its start in Berlin, or for the upper bound the start of the day after)
// or an RFC 3339 time.
func PeriodBound(s string, upper bool) (time.Time, error) { return trailTime(s, upper) }

// CaseSearchOf reads a case search from the query: q, from and to (the
// period of receipt: dates in Europe/Berlin, both inclusive, or RFC 3339
// times, to exclusive), status (open or closed, as named by statuses: the
// API's words or the pages') and the page. Bad input is refused with the
// parameter it concerns.
func CaseSearchOf(r *http.Request, names map[string]string, statuses map[string]string) (store.CaseSearch, error) {
	v := r.URL.Query()
	q := store.CaseSearch{Text: strings.TrimSpace(v.Get(names["q"]))}
	var fields []ozgflow.FieldError
	var err error
	if q.From, err = PeriodBound(v.Get(names["from"]), false); err != nil {
		fields = append(fields, ozgflow.FieldError{Pointer: "?" + names["from"], Detail: err.Error()})
	}
	if q.To, err = PeriodBound(v.Get(names["to"]), true); err != nil {
		fields = append(fields, ozgflow.FieldError{Pointer: "?" + names["to"], Detail: err.Error()})
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		fields = append(fields, ozgflow.FieldError{Pointer: "?" + names["to"], Detail: "is before " + names["from"]})
	}
	if status := strings.TrimSpace(v.Get(names["status"])); status != "" {
		var ok bool
		if q.Status, ok = statuses[status]; !ok {
			words := make([]string, 0, len(statuses))
			for w := range statuses {
				words = append(words, w)
			}
			fields = append(fields, ozgflow.FieldError{Pointer: "?" + names["status"], Detail: "is not one of " + strings.Join(slices.Sorted(slices.Values(words)), ", ")})
		}
	}
	if len(fields) > 0 {
		return q, &ozgflow.Error{Code: ozgflow.EINVALID, Message: "The search is not valid.", Fields: fields}
	}
	return q, nil
}

package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/records"
)

// TrailQueryOf reads an export's choice from the query: case, actor,
// account, from and to (dates, counted in Europe/Berlin, both inclusive,
// or RFC 3339 times, to exclusive) and format (csv, xlsx or json, the
// default). Bad input is refused with the parameter it concerns.
func TrailQueryOf(r *http.Request) (records.TrailQuery, string, error) {
	v := r.URL.Query()
	q := records.TrailQuery{CaseID: strings.TrimSpace(v.Get("case")), Actor: strings.TrimSpace(v.Get("actor")),
		Account: strings.TrimSpace(v.Get("account"))}
	var fields []ozgflow.FieldError
	for name, value := range map[string]string{"case": q.CaseID, "actor": q.Actor, "account": q.Account} {
		if len(value) > 256 {
			fields = append(fields, ozgflow.FieldError{Pointer: "?" + name, Detail: "is longer than 256 characters"})
		}
	}
	var err error
	if q.From, err = trailTime(v.Get("from"), false); err != nil {
		fields = append(fields, ozgflow.FieldError{Pointer: "?from", Detail: err.Error()})
	}
	if q.To, err = trailTime(v.Get("to"), true); err != nil {
		fields = append(fields, ozgflow.FieldError{Pointer: "?to", Detail: err.Error()})
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		fields = append(fields, ozgflow.FieldError{Pointer: "?to", Detail: "is not after from"})
	}
	format := strings.ToLower(strings.TrimSpace(v.Get("format")))
	switch format {
	case "":
		format = "json"
	case "csv", "xlsx", "json":
	default:
		fields = append(fields, ozgflow.FieldError{Pointer: "?format", Detail: "is not one of csv, xlsx, json"})
	}
	if len(fields) > 0 {
		// The same order for the same input.
		slices.SortFunc(fields, func(a, b ozgflow.FieldError) int { return strings.Compare(a.Pointer, b.Pointer) })
		return q, format, &ozgflow.Error{Code: ozgflow.EINVALID, Message: "The choice of entries is not valid.", Fields: fields}
	}
	return q, format, nil
}

// trailTime reads a bound of the period: a date (its start in Berlin, or
// for the upper bound the start of the day after) or an RFC 3339 time.
func trailTime(s string, upper bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if day, err := time.ParseInLocation("2006-01-02", s, locale.Berlin); err == nil {
		if upper {
			day = day.AddDate(0, 0, 1)
		}
		return day.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("is neither a date (2006-01-02) nor an RFC 3339 time")
	}
	return t.UTC(), nil
}

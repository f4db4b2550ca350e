package api

import (
	"mime"
	"net/http"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/reports"
)

// reportAuthority is the authority a report covers: the case worker's own,
// or the one an administrator names.
func (s *API) reportAuthority(w http.ResponseWriter, r *http.Request, id ozgflow.Identity) (string, bool) {
	authority := id.Authority
	if id.Has(ozgflow.RoleAdmin) {
		authority = r.URL.Query().Get("authority")
	}
	if _, known := s.cases.Defs.Registry().Authority(authority); !known {
		s.errors.Write(w, r, ozgflow.BadParam("authority", "must name a known authority (12-digit ARS)"))
		return "", false
	}
	return authority, true
}

// handleStatisticsReport writes the dashboard figures of an authority as .xlsx.
func (s *API) handleStatisticsReport(w http.ResponseWriter, r *http.Request) {
	id := ozgflow.IdentityFrom(r.Context())
	authority, ok := s.reportAuthority(w, r, id)
	if !ok {
		return
	}
	period, bad, err := reports.PeriodOf(r.URL.Query().Get("from"), r.URL.Query().Get("to"))
	if err != nil {
		s.errors.Write(w, r, ozgflow.BadParam(bad, "must be a date like 2026-11-23"))
		return
	}
	stats, err := reports.Dashboard(r.Context(), s.cases, authority, period, s.now())
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	name := authority
	if a, ok := s.cases.Defs.Registry().Authority(authority); ok {
		name = a.Name
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment",
		map[string]string{"filename": "auswertung-" + authority + ".xlsx"}))
	if err := reports.WriteStatistics(w, name, period, stats); err != nil {
		s.logger.Error("Statistics report broke off", "error", err)
	}
}

// handleCaseReport streams the case list of an authority as an .xlsx
// workbook, filtered by service, status and submission dates. Case workers
// get their authority's list; administrators name the authority.
func (s *API) handleCaseReport(w http.ResponseWriter, r *http.Request) {
	authority, ok := s.reportAuthority(w, r, ozgflow.IdentityFrom(r.Context()))
	if !ok {
		return
	}
	f, err := s.caseFilter(r, authority)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment",
		map[string]string{"filename": "vorgaenge-" + f.Authority + ".xlsx"}))
	if _, err := reports.WriteCases(r.Context(), w, s.cases, f); err != nil {
		s.logger.Error("Case report broke off", "error", err)
	}
}

// caseFilter reads the case report's filter: service, status and the dates
// of submission (the whole last day included).
func (s *API) caseFilter(r *http.Request, authority string) (reports.Filter, error) {
	q := r.URL.Query()
	f := reports.Filter{Authority: authority, Status: ozgflow.Status(q.Get("status"))}
	if a, ok := s.cases.Defs.Registry().Authority(authority); ok {
		f.AuthorityName = a.Name
	}
	if v := q.Get("service"); v != "" {
		key, known := s.cases.Defs.Registry().ServiceKey(v)
		if !known {
			return f, ozgflow.BadParam("service", "must name a known service (LeiKa key or slug)")
		}
		f.Service = key
	}
	if _, known := statusNames[f.Status]; f.Status != "" && !known {
		return f, ozgflow.BadParam("status", "must be one of the case statuses")
	}
	period, bad, err := reports.PeriodOf(q.Get("from"), q.Get("to"))
	if err != nil {
		return f, ozgflow.BadParam(bad, "must be a date like 2026-11-23")
	}
	f.From, f.To = period.From, period.To
	return f, nil
}

// statusNames are the statuses a report may filter by.
var statusNames = map[ozgflow.Status]bool{
	ozgflow.StatusReceived: true, ozgflow.StatusAwaitingPayment: true, ozgflow.StatusAwaitingSignature: true,
	ozgflow.StatusForwarded: true, ozgflow.StatusInReview: true, ozgflow.StatusInformationRequested: true,
	ozgflow.StatusApproved: true, ozgflow.StatusRejected: true, ozgflow.StatusWithdrawn: true, ozgflow.StatusCancelled: true,
}

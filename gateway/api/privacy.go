package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/receipt"
)

// registerPrivacyRoutes adds erasure on request (GDPR Art. 17), for
// administrators, and access on request (Art. 15), for administrators and
// the account's portal client.
func (s *API) registerPrivacyRoutes(root *mux.Router, rooms *web.Rooms, prefix string, sources []web.Source) {
	erasers := rooms.Open(root, prefix, web.Audience{Name: "administrators", Roles: []ozgflow.Role{ozgflow.RoleAdmin},
		Deny: s.deny("Only administrators erase personal data."), Sources: sources, BearerForChanges: true})
	// The erasure itself notes each case it erases, with the reason, before
	// it happens; the route's entry is the request.
	erasers.Handle("/applications/{id}/erasure", s.audit.Declare(web.Changes("erasure.request"), s.handleEraseCase)).Methods(http.MethodPost)
	erasers.Handle("/accounts/{account}/erasure", s.audit.Declare(web.Changes("erasure.request"), s.handleEraseAccount)).Methods(http.MethodPost)

	readers := rooms.Open(root, prefix, web.Audience{Name: "administrators and the account's portal client",
		Roles: []ozgflow.Role{ozgflow.RoleAdmin, ozgflow.RolePortal},
		Deny:  s.deny("Only the account's portal client and administrators read its data."), Sources: sources,
		BearerForChanges: true})
	readers.Handle("/accounts/{account}/data", s.audit.Declare(web.Reads(ozgflow.ActionAccountAccess), s.handleAccountData)).Methods(http.MethodGet)
}

// erasureRequest is the body of an erasure on request.
type erasureRequest struct {
	Reason string `json:"reason"`
}

func (s *API) handleEraseCase(w http.ResponseWriter, r *http.Request) {
	var req erasureRequest
	if !s.readBody(w, r, &req) {
		return
	}
	res, err := s.cases.EraseCase(r.Context(), ozgflow.IdentityFrom(r.Context()), mux.Vars(r)["id"], req.Reason)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, res)
}

func (s *API) handleEraseAccount(w http.ResponseWriter, r *http.Request) {
	var req erasureRequest
	if !s.readBody(w, r, &req) {
		return
	}
	res, err := s.cases.EraseAccount(r.Context(), ozgflow.IdentityFrom(r.Context()), mux.Vars(r)["account"], req.Reason)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, res)
}

// handleAccountData answers everything kept about a portal account as
// JSON, or as a readable PDF with ?format=pdf or Accept: application/pdf.
func (s *API) handleAccountData(w http.ResponseWriter, r *http.Request) {
	d, err := s.cases.AccountData(r.Context(), ozgflow.IdentityFrom(r.Context()), mux.Vars(r)["account"])
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	if r.URL.Query().Get("format") != "pdf" && !strings.Contains(r.Header.Get("Accept"), "application/pdf") {
		web.WriteJSON(w, http.StatusOK, d)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="auskunft.pdf"`)
	w.Write(receipt.RenderReport(accountReport(d)))
}

// accountReport puts an account's data into German words.
func accountReport(d casework.AccountData) receipt.Report {
	de := locale.DE
	rep := receipt.Report{
		Title:    "Auskunft über gespeicherte Daten",
		Subtitle: "nach Art. 15 DSGVO · Portalkonto " + d.Account,
		Intro: "Diese Auskunft enthält alles, was ozgflow zu diesem Portalkonto speichert: laufende und abgeschlossene " +
			"Vorgänge mit den Angaben im Antrag, Mitteilungen, Dokumente (ohne Inhalt), die internen Notizen der " +
			"Sachbearbeitung (in der Auskunft durch die Verwaltung) und die Protokolleinträge.",
		Footer: "Auskunft · Portalkonto " + d.Account,
		At:     d.GeneratedAt,
	}
	caseSection := func(heading string, ac casework.AccountCase) receipt.Section {
		c := ac.Case
		sec := receipt.Section{Heading: heading + " " + c.ID, Fields: []receipt.Field{
			{Label: "Vorgangsnummer", Value: c.ID},
			{Label: "Leistung", Value: c.ServiceName},
			{Label: "Behörde (ARS)", Value: c.Authority},
			{Label: "Stand", Value: string(c.Status)},
			{Label: "Eingegangen am", Value: de.Time(c.SubmittedAt)},
		}}
		if ac.RetainUntil != nil {
			sec.Fields = append(sec.Fields, receipt.Field{Label: "Gespeichert bis", Value: de.Time(*ac.RetainUntil)})
		}
		if a := ac.Application; a != nil {
			sec.Fields = append(sec.Fields,
				receipt.Field{Label: "Antragsteller", Value: a.Applicant.Name},
				receipt.Field{Label: "E-Mail", Value: a.Applicant.Email},
				receipt.Field{Label: "Angaben", Value: string(a.Data)})
		}
		return sec
	}
	for _, c := range d.OpenCases {
		rep.Sections = append(rep.Sections, caseSection("Laufender Vorgang", c))
	}
	for _, c := range d.ClosedCases {
		rep.Sections = append(rep.Sections, caseSection("Abgeschlossener Vorgang", c))
	}
	if len(d.OpenCases)+len(d.ClosedCases) == 0 {
		rep.Sections = append(rep.Sections, receipt.Section{Heading: "Vorgänge", Text: "Keine gespeicherten Vorgänge."})
	}
	notices := receipt.Section{Heading: "Mitteilungen"}
	for _, n := range d.Notices {
		notices.Fields = append(notices.Fields, receipt.Field{Label: de.Time(n.At), Value: n.Title + " (Vorgang " + n.CaseID + ")"})
	}
	if len(d.Notices) == 0 {
		notices.Text = "Keine."
	}
	docs := receipt.Section{Heading: "Dokumente"}
	for _, doc := range d.Documents {
		docs.Fields = append(docs.Fields, receipt.Field{Label: doc.Name,
			Value: fmt.Sprintf("%d Bytes, Vorgang %s, SHA-256 %s", doc.Size, doc.CaseID, doc.SHA256)})
	}
	if len(d.Documents) == 0 {
		docs.Text = "Keine."
	}
	// The case workers' internal notes: an administrator's export holds
	// them (see casework.AccountData), labelled as never sent.
	var notes []receipt.Section
	if len(d.InternalNotes) > 0 {
		sec := receipt.Section{Heading: "Interne Notizen der Sachbearbeitung",
			Text: "Notizen, die Sachbearbeiterinnen und Sachbearbeiter zu Ihren Vorgängen festgehalten haben. " +
				"Sie wurden Ihnen nicht gesendet; sie gehören zu den über Sie gespeicherten Daten."}
		for _, n := range d.InternalNotes {
			sec.Fields = append(sec.Fields, receipt.Field{Label: de.Time(n.At),
				Value: n.Text + " (" + n.AuthorName + ", Vorgang " + n.CaseID + ")"})
		}
		notes = append(notes, sec)
	}
	trail := receipt.Section{Heading: "Protokoll"}
	for _, e := range d.Trail {
		trail.Fields = append(trail.Fields, receipt.Field{Label: de.Time(e.At), Value: e.Action + " durch " + e.Actor})
	}
	if len(d.Trail) == 0 {
		trail.Text = "Keine Einträge."
	}
	rep.Sections = append(append(append(rep.Sections, notices, docs), notes...), trail)
	return rep
}

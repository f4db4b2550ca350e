package api

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/gateway/web"
)

// The portal mailbox (Postfach): the notices of every case of a portal
// account, newest first, with what the account has read.

// mailboxNoticeView is a notice as the mailbox API shows it.
type mailboxNoticeView struct {
	ID         string         `json:"id"`
	CaseID     string         `json:"caseId"`
	CaseNumber string         `json:"caseNumber,omitempty"`
	Status     ozgflow.Status `json:"status"`
	Title      string         `json:"title"`
	Text       string         `json:"text"`
	Easy       string         `json:"easy,omitempty"`
	At         time.Time      `json:"at"`
	Read       bool           `json:"read"`
	// Documents come with the notice, e.g. the decision's PDF; the portal
	// fetches them with the case's access token.
	Documents []noticeDocView `json:"documents,omitempty"`
}

// mailboxView is one page of a mailbox.
type mailboxView struct {
	Notices []mailboxNoticeView `json:"notices"`
	Total   int64               `json:"total"`
	Unread  int64               `json:"unread"`
	Offset  int64               `json:"offset"`
	Limit   int64               `json:"limit"`
}

func newMailboxView(page casework.MailboxPage, offset, limit int64) mailboxView {
	v := mailboxView{Notices: make([]mailboxNoticeView, len(page.Notices)), Total: page.Total, Unread: page.Unread,
		Offset: offset, Limit: limit}
	for i, n := range page.Notices {
		v.Notices[i] = mailboxNoticeView{ID: n.ID, CaseID: n.CaseID, CaseNumber: n.CaseNumber, Status: n.Status, Title: n.Title, Text: n.Text,
			Easy: n.Easy, At: n.At, Read: n.Read, Documents: noticeDocs(n.Notice)}
	}
	return v
}

// handleNotices lists the notices of a portal account, newest first, across
// its cases, with their read state and the number of unread notices.
func (s *API) handleNotices(w http.ResponseWriter, r *http.Request) {
	if !s.ownsAccount(w, r) {
		return
	}
	offset, limit, err := web.Paging(r)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	page, err := s.cases.Mailbox(r.Context(), mux.Vars(r)["account"], offset, limit)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, newMailboxView(page, offset, limit))
}

// handleNoticeRead marks a notice of the mailbox as read; marking it again
// changes nothing.
func (s *API) handleNoticeRead(w http.ResponseWriter, r *http.Request) {
	if !s.ownsAccount(w, r) {
		return
	}
	vars := mux.Vars(r)
	web.NoteDetail(r.Context(), "notice "+vars["noticeId"])
	unread, err := s.cases.MarkNoticeRead(r.Context(), vars["account"], vars["noticeId"])
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"id": vars["noticeId"], "read": true, "unread": unread})
}

// ownsAccount refuses a portal client an account outside its own.
func (s *API) ownsAccount(w http.ResponseWriter, r *http.Request) bool {
	if id := ozgflow.IdentityFrom(r.Context()); !id.OwnsAccount(mux.Vars(r)["account"]) {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EFORBIDDEN, "This portal client reads only the mailboxes of its own accounts (%s…).", id.AccountPrefix))
		return false
	}
	return true
}

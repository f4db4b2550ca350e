package casework

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/records"
)

// Erasure on request (GDPR Art. 17) and access on request (Art. 15).

// MaxErasureReason bounds the reason an administrator gives for an erasure.
const MaxErasureReason = 500

// ErasureResult says what an erasure on request removed.
type ErasureResult struct {
	Cases     []string `json:"cases"`
	Documents int      `json:"documents"`
}

// checkErasure admits administrators with a reason of bounded length.
func checkErasure(by ozgflow.Identity, reason string) error {
	if !by.Has(ozgflow.RoleAdmin) {
		return ozgflow.Errorf(ozgflow.EFORBIDDEN, "Only administrators erase personal data.")
	}
	reason = strings.TrimSpace(reason)
	var detail string
	switch {
	case reason == "":
		detail = "is required: say why the data is erased"
	case utf8.RuneCountInString(reason) > MaxErasureReason:
		detail = fmt.Sprintf("must be at most %d characters", MaxErasureReason)
	default:
		return nil
	}
	return &ozgflow.Error{Code: ozgflow.EINVALID, Message: "The erasure request is invalid.",
		Fields: []ozgflow.FieldError{{Pointer: "/reason", Detail: detail}}}
}

// EraseCase erases the personal data of one closed case on an
// administrator's request; an open case is refused.
func (s *Service) EraseCase(ctx context.Context, by ozgflow.Identity, caseID, reason string) (ErasureResult, error) {
	var res ErasureResult
	if err := checkErasure(by, reason); err != nil {
		return res, err
	}
	c, err := s.closedOrOpen(ctx, caseID)
	if err != nil {
		return res, err
	}
	if !s.closedForGood(ctx, c) {
		return res, ozgflow.Refuse(ozgflow.ECONFLICT, ozgflow.ReasonCaseOpen,
			"The case is still open; its data is erased once it has closed.", caseID)
	}
	docs, err := s.eraseClosed(ctx, by, c, strings.TrimSpace(reason))
	if err != nil {
		return res, err
	}
	return ErasureResult{Cases: []string{caseID}, Documents: docs}, nil
}

// EraseAccount erases the personal data of every case of a portal account
// and its read marks, on an administrator's request; while any of its
// cases is open, nothing is erased and the refusal names them.
func (s *Service) EraseAccount(ctx context.Context, by ozgflow.Identity, account, reason string) (ErasureResult, error) {
	res := ErasureResult{Cases: []string{}}
	if err := checkErasure(by, reason); err != nil {
		return res, err
	}
	reason = strings.TrimSpace(reason)
	ids, err := s.casesOfAccount(ctx, account)
	if err != nil {
		return res, err
	}
	var cases []ozgflow.Case
	var open []string
	for _, id := range ids {
		c, err := s.closedOrOpen(ctx, id)
		if ozgflow.ErrorCode(err) == ozgflow.ENOTFOUND {
			continue
		} else if err != nil {
			return res, err
		}
		if !s.closedForGood(ctx, c) {
			open = append(open, id)
		}
		cases = append(cases, c)
	}
	if len(open) > 0 {
		return res, ozgflow.Refuse(ozgflow.ECONFLICT, ozgflow.ReasonCaseOpen,
			"Cases of the account are still open: "+strings.Join(open, ", ")+".", strings.Join(open, ", "))
	}
	if err := s.Records.Append(ctx, records.Entry{Actor: by.Subject, Role: string(by.Role), Account: account,
		Action: ozgflow.ActionAccountErase, Detail: reason}); err != nil {
		return res, err
	}
	for _, c := range cases {
		if !c.ErasedAt.IsZero() {
			continue
		}
		docs, err := s.eraseClosed(ctx, by, c, reason)
		if err != nil {
			return res, err
		}
		res.Cases = append(res.Cases, c.ID)
		res.Documents += docs
	}
	if err := s.Records.ForgetReadMarks(ctx, account); err != nil {
		return res, err
	}
	return res, nil
}

// closedForGood reports whether a case has closed and its final record is
// written: a decided case may still run its last steps, and erasing it
// before the record is kept would let the record bring the data back.
func (s *Service) closedForGood(ctx context.Context, c ozgflow.Case) bool {
	if !c.Status.Final() {
		return false
	}
	_, err := s.Records.ClosedCase(ctx, c.ID)
	return err == nil
}

// closedOrOpen reads a case from the projection or the workflow, and from
// the records database once neither knows it any more.
func (s *Service) closedOrOpen(ctx context.Context, caseID string) (ozgflow.Case, error) {
	c, err := s.Load(ctx, caseID)
	if ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND || s.Records == nil {
		return c, err
	}
	rec, rerr := s.Records.ClosedCase(ctx, caseID)
	if rerr != nil {
		return c, err
	}
	return rec.Case, nil
}

// eraseClosed removes the personal data of a closed case: its projection
// (statistics stay), its record and documents, and its workflow history;
// the trail notes who did it and why, before it happens, so that no
// erasure goes unnoted.
func (s *Service) eraseClosed(ctx context.Context, by ozgflow.Identity, c ozgflow.Case, reason string) (int, error) {
	now := s.now()
	stats, account := c.StatisticsOnly(now), c.PortalAccount
	if rec, err := s.Records.ClosedCase(ctx, c.ID); err == nil {
		if rec.Case.PortalAccount != "" {
			account = rec.Case.PortalAccount
		}
		if rec.Case.Revision > stats.Revision {
			stats = rec.Case.StatisticsOnly(now)
		}
	}
	if err := s.Records.Append(ctx, records.Entry{Actor: by.Subject, Role: string(by.Role), CaseID: c.ID,
		Action: ozgflow.ActionCaseErase, Detail: reason}); err != nil {
		return 0, err
	}
	if err := s.Store.EraseCase(ctx, stats, account); err != nil {
		return 0, err
	}
	er, err := s.Records.EraseCase(ctx, c.ID, reason, now)
	if err != nil {
		return 0, err
	}
	if err := s.deleteHistory(ctx, c.ID); err != nil {
		return er.Documents, err
	}
	return er.Documents, nil
}

// deleteHistory deletes the workflow execution of a case; NotFound means
// it is gone already.
func (s *Service) deleteHistory(ctx context.Context, caseID string) error {
	_, err := s.Temporal.WorkflowService().DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{
		Namespace:         s.namespace(),
		WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: ozgflow.CaseWorkflowID(caseID)},
	})
	var notFound *serviceerror.NotFound
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("delete the history of case %s: %w", caseID, err)
	}
	return nil
}

func (s *Service) namespace() string {
	if s.Namespace == "" {
		return ozgflow.Namespace
	}
	return s.Namespace
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// casesOfAccount lists the cases of a portal account the projections and
// the records know, sorted.
func (s *Service) casesOfAccount(ctx context.Context, account string) ([]string, error) {
	open, err := s.Store.CasesOf(ctx, account)
	if err != nil {
		return nil, err
	}
	closed, err := s.Records.ClosedCasesOf(ctx, account)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var ids []string
	for _, id := range append(open, closed...) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// AccountCase is one case in an account's data: its state and, while
// kept, the application.
type AccountCase struct {
	Case        ozgflow.Case         `json:"case"`
	Application *ozgflow.Application `json:"application,omitempty"`
	ClosedAt    *time.Time           `json:"closedAt,omitempty"`
	RetainUntil *time.Time           `json:"retainUntil,omitempty"`
}

// AccountDocument describes a document of a case, without its content.
type AccountDocument struct {
	CaseID      string    `json:"caseId"`
	Name        string    `json:"name"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	Kind        string    `json:"kind"`
	CreatedAt   time.Time `json:"createdAt"`
}

// AccountData is everything ozgflow keeps about a portal account.
type AccountData struct {
	Account     string            `json:"account"`
	GeneratedAt time.Time         `json:"generatedAt"`
	OpenCases   []AccountCase     `json:"openCases"`
	ClosedCases []AccountCase     `json:"closedCases"`
	Notices     []ozgflow.Notice  `json:"notices"`
	ReadNotices []string          `json:"readNotices"`
	Documents   []AccountDocument `json:"documents"`
	// InternalNotes are the case workers' internal notes on the account's
	// cases: personal data about the applicant (Art. 15 GDPR), never sent
	// to them. Only an administrator's export holds them, so that the
	// authority reviews them (other people's data, Art. 15(4)) before
	// handing the copy out; the portal's self-service export does not.
	InternalNotes []records.Note  `json:"internalNotes,omitempty"`
	Trail         []records.Entry `json:"trail"`
}

// maxAccountNotices bounds the notices read for one account.
const maxAccountNotices = 10000

// AccountData collects everything kept about a portal account, for the
// account's portal client or an administrator, and notes the access in
// the audit trail.
func (s *Service) AccountData(ctx context.Context, by ozgflow.Identity, account string) (AccountData, error) {
	d := AccountData{Account: account, GeneratedAt: s.now(), OpenCases: []AccountCase{}, ClosedCases: []AccountCase{},
		ReadNotices: []string{}, Documents: []AccountDocument{}}
	if !by.Has(ozgflow.RoleAdmin) && !by.OwnsAccount(account) {
		return d, ozgflow.Errorf(ozgflow.EFORBIDDEN, "Only the account's portal client and administrators read its data.")
	}
	ids, err := s.casesOfAccount(ctx, account)
	if err != nil {
		return d, err
	}
	for _, id := range ids {
		if rec, err := s.Records.ClosedCase(ctx, id); err == nil {
			if !rec.ErasedAt.IsZero() {
				continue
			}
			closed, until := rec.ClosedAt, rec.RetainUntil
			app := rec.Application
			d.ClosedCases = append(d.ClosedCases, AccountCase{Case: rec.Case, Application: &app, ClosedAt: &closed, RetainUntil: &until})
		} else {
			c, err := s.Load(ctx, id)
			if err != nil || !c.ErasedAt.IsZero() {
				continue
			}
			ac := AccountCase{Case: c}
			if in, err := s.Input(ctx, id); err == nil {
				ac.Application = &in.Application
			}
			d.OpenCases = append(d.OpenCases, ac)
		}
		docs, err := s.Records.Documents(ctx, id)
		if err != nil {
			return d, err
		}
		for _, doc := range docs {
			d.Documents = append(d.Documents, AccountDocument{CaseID: id, Name: doc.Name, ContentType: doc.ContentType,
				Size: doc.Size, SHA256: doc.SHA256, Kind: doc.Kind, CreatedAt: doc.CreatedAt})
		}
		if by.Has(ozgflow.RoleAdmin) {
			notes, err := s.Records.Notes(ctx, id)
			if err != nil {
				return d, err
			}
			d.InternalNotes = append(d.InternalNotes, notes...)
		}
	}
	if d.Notices, _, err = s.Store.Notices(ctx, account, 0, maxAccountNotices); err != nil {
		return d, err
	}
	noticeIDs := make([]string, len(d.Notices))
	for i, n := range d.Notices {
		noticeIDs[i] = n.ID
	}
	read, err := s.Records.ReadMarks(ctx, account, noticeIDs)
	if err != nil {
		return d, err
	}
	for _, id := range noticeIDs {
		if read[id] {
			d.ReadNotices = append(d.ReadNotices, id)
		}
	}
	// The trail about the account: entries that name it, and entries about
	// its cases (reads, downloads, decisions, deliveries), each once.
	d.Trail = []records.Entry{}
	seen := map[int64]bool{}
	queries := []records.TrailQuery{{Account: account}}
	for _, c := range append(append([]AccountCase(nil), d.OpenCases...), d.ClosedCases...) {
		queries = append(queries, records.TrailQuery{CaseID: c.Case.ID})
	}
	for _, q := range queries {
		if err := s.eachTrailEntry(ctx, q, func(e records.Entry) {
			if !seen[e.ID] {
				seen[e.ID] = true
				d.Trail = append(d.Trail, e)
			}
		}); err != nil {
			return d, err
		}
	}
	slices.SortFunc(d.Trail, func(a, b records.Entry) int { return cmp.Compare(a.ID, b.ID) })
	return d, nil
}

// eachTrailEntry pages through every entry a query selects.
func (s *Service) eachTrailEntry(ctx context.Context, q records.TrailQuery, fn func(records.Entry)) error {
	for {
		page, err := s.Records.Trail(ctx, q)
		if err != nil {
			return err
		}
		for _, e := range page {
			fn(e)
		}
		if len(page) == 0 || q.Limit > 0 && len(page) < q.Limit || q.Limit == 0 && len(page) < 1000 {
			return nil
		}
		q.After = page[len(page)-1].ID
	}
}

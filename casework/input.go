package casework

import (
	"encoding/json"
	"strconv"

	"github.com/ozgflow/ozgflow"
)

// The bounds of every text the case service takes from outside (see
// ozgflow's input.go). Each operation checks its request before it loads,
// stores or starts anything, so that a refused request leaves no trace.

// checkSubmissionInput bounds an application: its names and codes, the
// applicant's e-mail address and portal account, and the size of its data
// and attachment list as they would travel to Temporal.
func checkSubmissionInput(sub Submission) []ozgflow.FieldError {
	errs := ozgflow.CheckText(
		ozgflow.Line("/service", sub.Service, ozgflow.MaxCodeRunes),
		ozgflow.Line("/authority", sub.Authority, ozgflow.MaxCodeRunes),
		ozgflow.Line("/applicant/name", sub.Applicant.Name, ozgflow.MaxNameRunes),
	)
	if e := sub.Applicant.Email; e != "" {
		if fe, bad := ozgflow.CheckEmail("/applicant/email", e); bad {
			errs = append(errs, fe)
		}
	}
	if a := sub.Applicant.PortalAccount; a != "" {
		errs = append(errs, ozgflow.CheckText(ozgflow.PortalAccount("/applicant/portalAccount", a))...)
	}
	if fe, bad := ozgflow.CheckSize("/data", len(sub.Data), ozgflow.MaxDataBytes); bad {
		errs = append(errs, fe)
	}
	errs = append(errs, checkAttachments(sub.Attachments)...)
	if len(errs) == 0 {
		encoded, _ := json.Marshal(sub.Attachments)
		if fe, bad := ozgflow.CheckSize("/attachments", len(sub.Data)+len(encoded), ozgflow.MaxDataBytes); bad {
			errs = append(errs, fe)
		}
	}
	return errs
}

// checkAttachments bounds an attachment list: its length, and the names and
// types of its documents.
func checkAttachments(list []ozgflow.Attachment) []ozgflow.FieldError {
	if len(list) > ozgflow.MaxAttachments {
		return []ozgflow.FieldError{{Pointer: "/attachments", Rule: ozgflow.RuleTooLong, Limit: ozgflow.MaxAttachments,
			Detail: "may list at most " + strconv.Itoa(ozgflow.MaxAttachments) + " documents"}}
	}
	var errs []ozgflow.FieldError
	for i, a := range list {
		at := "/attachments/" + strconv.Itoa(i)
		errs = append(errs, ozgflow.CheckText(
			ozgflow.Line(at+"/name", a.Name, ozgflow.MaxFileNameRunes),
			ozgflow.Line(at+"/contentType", a.ContentType, ozgflow.MaxCodeRunes),
		)...)
	}
	return errs
}

// checkAction bounds the body of a task action: each field, and its text
// together, which the update carries to the case's workflow.
func checkAction(body any) error {
	var fields []ozgflow.Text
	switch req := body.(type) {
	case Completion:
		fields = append(fields, ozgflow.Line("/outcome", req.Outcome, ozgflow.MaxCodeRunes),
			ozgflow.Prose("/comment", req.Comment, ozgflow.MaxCommentRunes))
		if len(req.Fields) > ozgflow.MaxFieldsAsked {
			return ozgflow.InvalidInput([]ozgflow.FieldError{{Pointer: "/fields", Rule: ozgflow.RuleTooLong,
				Limit: ozgflow.MaxFieldsAsked, Detail: "may name at most " + strconv.Itoa(ozgflow.MaxFieldsAsked) + " fields"}})
		}
		for i, f := range req.Fields {
			fields = append(fields, ozgflow.Line("/fields/"+strconv.Itoa(i), f, ozgflow.MaxCodeRunes))
		}
	case HandoverTo:
		fields = append(fields, ozgflow.Line("/to", req.To, ozgflow.MaxSubjectRunes),
			ozgflow.Line("/queue", req.Queue, ozgflow.MaxCodeRunes),
			ozgflow.Prose("/note", req.Note, ozgflow.MaxNoteRunes))
	case ApprovalAnswer:
		fields = append(fields, ozgflow.Prose("/comment", req.Comment, ozgflow.MaxCommentRunes))
	case FollowUpAt:
		fields = append(fields, ozgflow.Line("/date", req.Date, ozgflow.MaxCodeRunes),
			ozgflow.Prose("/note", req.Note, ozgflow.MaxNoteRunes))
		if errs := ozgflow.CheckText(fields...); len(errs) == 0 {
			if err := checkFollowUp(req); err != nil {
				return err
			}
		}
	}
	if errs := ozgflow.CheckText(fields...); len(errs) > 0 {
		return ozgflow.InvalidInput(errs)
	}
	total := 0
	for _, f := range fields {
		total += len(f.Value)
	}
	if fe, bad := ozgflow.CheckSize("", total, ozgflow.MaxActionBytes); bad {
		fe.Detail = "the action's text is larger than " + strconv.Itoa(ozgflow.MaxActionBytes>>10) + " KiB together"
		return ozgflow.InvalidInput([]ozgflow.FieldError{fe})
	}
	return nil
}

// CheckResponse bounds an applicant's answer, whether it came as JSON or as
// a form with documents: its text, its data and the documents it names.
func CheckResponse(resp ozgflow.Response) error {
	errs := ozgflow.CheckText(ozgflow.Prose("/text", resp.Text, ozgflow.MaxAnswerRunes))
	if fe, bad := ozgflow.CheckSize("/data", len(resp.Data), ozgflow.MaxAnswerDataBytes); bad {
		errs = append(errs, fe)
	}
	errs = append(errs, checkAttachments(resp.Attachments)...)
	return ozgflow.InvalidInput(errs)
}

// CheckWithdrawal bounds the reason of a withdrawal.
func CheckWithdrawal(wd ozgflow.Withdrawal) error {
	return ozgflow.InvalidInput(ozgflow.CheckText(ozgflow.Prose("/reason", wd.Reason, ozgflow.MaxWithdrawalRunes)))
}

// CheckEvent bounds a back-office system's event: its name and comment.
func CheckEvent(ev ozgflow.ExternalEvent) error {
	return ozgflow.InvalidInput(ozgflow.CheckText(
		ozgflow.Line("/event", ev.Event, ozgflow.MaxCodeRunes),
		ozgflow.Line("/outcome", ev.Outcome, ozgflow.MaxCodeRunes),
		ozgflow.Prose("/comment", ev.Comment, ozgflow.MaxCommentRunes),
	))
}

// checkIdempotencyKey bounds the Idempotency-Key header.
func checkIdempotencyKey(key string) error {
	if errs := ozgflow.CheckText(ozgflow.Line("", key, ozgflow.MaxIdempotencyKey)); len(errs) > 0 {
		return &ozgflow.Error{Code: ozgflow.EINVALID, Message: "Idempotency-Key must be at most 255 characters without control characters."}
	}
	return nil
}

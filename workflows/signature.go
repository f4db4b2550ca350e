package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/definitions"
)

// NoticeSignatureDeclined is sent when the applicant declines to sign.
const NoticeSignatureDeclined = "signature_declined"

// runApplicantSignature has the applicant sign the application through the
// signing service: it opens a session, then waits for the service's webhook
// while polling with growing intervals. A declined signature, or none before
// the step's timeout, cancels the case.
func (c *caseImpl) runApplicantSignature(ctx workflow.Context, step definitions.Step) error {
	req := activities.SealRequest{
		CaseID: c.state.ID, DefinitionID: c.def.ID, DefinitionVersion: c.def.Version,
		SubmittedAt: c.in.SubmittedAt, Application: c.in.Application,
	}
	var session activities.SignatureSession
	if err := c.execute(ctx, providerOptions, seals.StartSignature, req).Get(ctx, &session); err != nil {
		return fmt.Errorf("start signature: %w", err)
	}
	c.state.Signing = &ozgflow.Signing{ID: session.ID, Status: ozgflow.SignaturePending, RedirectURL: session.RedirectURL}
	c.applySignature(ctx, session)
	c.setStatus(ctx, ozgflow.StatusAwaitingSignature, definitions.NoticeData{})

	var deadline time.Time
	if step.Timeout > 0 {
		deadline = workflow.Now(ctx).Add(time.Duration(step.Timeout))
	}
	poll := paymentPollStart
	for c.state.Signing.Status == ozgflow.SignaturePending {
		wait := poll
		if !deadline.IsZero() {
			left := deadline.Sub(workflow.Now(ctx))
			if left <= 0 {
				c.cancel(ctx, NoticeSignatureDeclined)
				return nil
			}
			wait = min(wait, left)
		}
		seen := c.signatureNudges
		nudged, err := c.awaitWithTimeout(ctx, wait, func() bool { return c.signatureNudges != seen })
		if err != nil {
			return err
		}
		var status activities.SignatureSession
		if err := c.execute(ctx, pollOptions, seals.SignatureStatus, session.ID).Get(ctx, &status); err != nil {
			c.logger.Warn("Signature status poll failed", "error", err)
		} else {
			c.applySignature(ctx, status)
		}
		if !nudged {
			poll = min(2*poll, paymentPollMax)
		}
	}
	if c.state.Signing.Status == ozgflow.SignatureDeclined {
		c.cancel(ctx, NoticeSignatureDeclined)
	}
	return nil
}

// applySignature takes the signing service's view of the session.
func (c *caseImpl) applySignature(ctx workflow.Context, s activities.SignatureSession) {
	sg := c.state.Signing
	if sg == nil || s.ID != sg.ID || sg.Status != ozgflow.SignaturePending || s.Status == ozgflow.SignaturePending {
		return
	}
	sg.Status = s.Status
	if s.Status == ozgflow.SignatureSigned {
		sg.JWS, sg.KeyID, sg.SignedAt = s.JWS, s.KeyID, workflow.Now(ctx).UTC()
	}
	c.touch()
}

// cancel ends the case as cancelled with the given notice.
func (c *caseImpl) cancel(ctx workflow.Context, notice string) {
	c.state.Status = ozgflow.StatusCancelled
	c.closeTasks(ozgflow.TaskCancelled)
	c.notify(ctx, notice, definitions.NoticeData{})
	c.touch()
}
